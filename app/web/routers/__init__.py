"""Thin routers: parse and validate, call the services, shape the answer."""
