"""HTTP: routes, pages, errors. Thin: parse, call a service, render."""
