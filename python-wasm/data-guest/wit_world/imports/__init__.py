"""One module per `automa:host` interface."""
