"""Validation: the perspectives that prove a copy went right (one module each, behind the
``Check`` seam of ``moonshift.seams``) and the runner that takes a copy through them."""
