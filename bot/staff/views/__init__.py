"""The staff app's pages, one module per area; each lists its `routes`."""
