"""The steps of a places import, one module each: see `lien.places.importer`."""
