"""HTTP: routes, dependencies, error rendering, CSRF, templates."""
