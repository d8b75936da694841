"""The staff app's pages, one module per area; each declares its `routes` on the handlers."""
