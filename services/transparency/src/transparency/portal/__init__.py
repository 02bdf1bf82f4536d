"""The public portal's presentation: templates, message catalogues, charts drawn on the server as SVG."""
