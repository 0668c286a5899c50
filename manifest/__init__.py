"""The Teams app package: manifest template, icons and the zip builder (`python -m manifest.build`)."""
