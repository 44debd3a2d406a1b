"""Matplotlib's SVG documents as fragments to paste into a page: accessible, and safe under the service's CSP.

- no XML declaration, no fixed width/height, a ``viewBox`` so it scales to its container;
- ``role="img"``, an ``aria-label`` and a ``<title>`` with the plot's description;
- no ``style`` attributes or ``<style>`` element: the Content-Security-Policy (``default-src 'self'``) blocks
  inline CSS, so every matplotlib style declaration becomes an SVG presentation attribute;
- only the ids something refers to (matplotlib's ``figure_1``, ``axes_1``... would repeat across the plots of
  one page).
"""

import re
import xml.etree.ElementTree as ET

__all__ = ["inline_svg"]

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# The CSS properties matplotlib writes, all of which are also SVG presentation attributes.
_PRESENTATION_ATTRIBUTES = frozenset(
    {
        "clip-path",
        "fill",
        "fill-opacity",
        "fill-rule",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "opacity",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
        "text-anchor",
    }
)


def inline_svg(document: str, description: str) -> str:
    """Matplotlib's SVG document as an accessible, CSP-safe fragment for an HTML page."""
    root = ET.fromstring(document)  # noqa: S314 - our own matplotlib output, not user-supplied XML
    referenced = set(re.findall(r"(?:url\(#|href=\"#)([\w.-]+)", document))
    for parent in [*root.iter()]:
        parent.tag = parent.tag.removeprefix(f"{{{_SVG_NS}}}")
        for child in [child for child in parent if child.tag.endswith(("}metadata", "}style"))]:
            parent.remove(child)
    for element in root.iter():
        if element.get("id") not in referenced:
            element.attrib.pop("id", None)  # figure_1, axes_1, ...: unused, and would repeat across plots on a page
        if _XLINK_HREF in element.attrib:
            element.set("href", element.attrib.pop(_XLINK_HREF))
        for declaration in filter(str.strip, element.attrib.pop("style", "").split(";")):
            name, _, value = (part.strip() for part in declaration.partition(":"))
            if name not in _PRESENTATION_ATTRIBUTES:
                raise RuntimeError(f"matplotlib wrote the CSS property {name!r}, which has no SVG attribute")
            element.set(name, value)
    for child in [child for child in root if child.tag == "defs" and len(child) == 0]:
        root.remove(child)
    root.attrib = {
        "xmlns": _SVG_NS,
        "viewBox": root.attrib["viewBox"],
        "role": "img",
        "aria-label": description,
        "class": "exohub-plot",
        # What matplotlib's <style>*{...}</style> said, as attributes every element inherits.
        "stroke-linejoin": "round",
        "stroke-linecap": "butt",
    }
    title = ET.Element("title")
    title.text = description
    root.insert(0, title)
    return ET.tostring(root, encoding="unicode")
