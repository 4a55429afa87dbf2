"""What every page relies on and none owns: the role sets, routes and the guard that enforces
their roles, the menu read off the routes, sessions, CSRF, security headers, the cookie key,
templating and the audit helper. Nothing here knows a particular page."""
