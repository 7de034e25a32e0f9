"""Developer-owned OAuth clients, called "apps" on pages and in the CLI."""
