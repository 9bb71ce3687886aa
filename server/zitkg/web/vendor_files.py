"""The built front-end files the pages use, per npm package: the one allow-list for serving and packaging.

Plain data with no imports: the wheel's build hook (hatch_build.py) reads it without installing anything,
copies exactly these files from node_modules into the wheel (zitkg/web/vendor/), and web/assets.py serves
nothing else.
"""

SERVED: dict[str, frozenset[str]] = {
    "swagger-ui-dist": frozenset({"swagger-ui.css", "swagger-ui-bundle.js"}),
    "@zazuko/yasgui": frozenset({"build/yasgui.min.js", "build/yasgui.min.css"}),
    "cytoscape": frozenset({"dist/cytoscape.min.js"}),
    "tom-select": frozenset({"dist/js/tom-select.complete.min.js", "dist/css/tom-select.default.min.css"}),
    "leaflet": frozenset({"dist/leaflet.js", "dist/leaflet.css",
                          *(f"dist/images/{n}" for n in ("layers.png", "layers-2x.png", "marker-icon.png",
                                                          "marker-icon-2x.png", "marker-shadow.png"))}),
}
