"""Map styles (MapLibre style encoding): the default per geometry type, checks, legends."""
