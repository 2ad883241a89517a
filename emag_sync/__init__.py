"""eMAG sync: the local mirror of eMAG Marketplace offers and orders."""
