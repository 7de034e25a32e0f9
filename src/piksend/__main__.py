from piksend.cli import main

raise SystemExit(main())
