"""One router per resource; ``ROUTERS`` is every one, in the order the docs show them."""
