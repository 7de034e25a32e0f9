"""The large images of issue 15 made with Pillow (never downloaded), and a server's peak RSS.

``png_6324`` is a 6,324 x 6,324 PNG that compresses to a few hundred KiB (the issue's was 151
KiB): a few bands of flat colour. ``jpeg_50mp`` is an 8,660 x 5,774 (50.0 MP) camera-sized JPEG
of smooth gradients. Both are built once per directory and kept there.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

PNG_SIZE = (6324, 6324)
JPEG_SIZE = (8660, 5774)


def png_6324(directory: Path) -> bytes:
    path = directory / "6324.png"
    if not path.exists():
        image = Image.new("RGB", PNG_SIZE, (240, 240, 235))
        draw = ImageDraw.Draw(image)
        for i in range(0, PNG_SIZE[0], 400):
            draw.rectangle((i, 0, i + 180, PNG_SIZE[1]), fill=(30 + i % 200, 90, 160))
        draw.ellipse((1000, 1000, 5000, 5000), fill=(200, 60, 40))
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        path.write_bytes(out.getvalue())
    return path.read_bytes()


def jpeg_50mp(directory: Path) -> bytes:
    path = directory / "50mp.jpg"
    if not path.exists():
        width, height = JPEG_SIZE
        red = Image.linear_gradient("L").resize((width, height))
        green = Image.radial_gradient("L").resize((width, height))
        blue = red.transpose(Image.Transpose.ROTATE_180)
        image = Image.merge("RGB", (red, green, blue))
        del red, green, blue
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90)
        path.write_bytes(out.getvalue())
    return path.read_bytes()


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM in /proc/<pid>/status), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def reset_peak_rss(pid: int) -> None:
    """Start the process's VmHWM again from its current RSS (proc(5): clear_refs, value 5), so
    a peak measured next is not the one sign-in's argon2id hashing left behind."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
