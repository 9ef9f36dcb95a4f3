"""One module per CLI command: read the config, call one domain function, print, exit."""
