"""Web layer: blueprints (views and forms only) and the shell around them."""
