"""An example application that manages the sync trigger of an identity pool."""
