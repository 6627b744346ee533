"""HTTP routes, one module per resource; they call services or repositories, never SQL."""
