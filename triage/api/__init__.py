"""The HTTP layer over the library: request parsing, auth, logs, metrics, the model slot,
the routes (one blueprint per concern) and the OpenAPI description. ``service.py`` wires
them into a Flask app."""
