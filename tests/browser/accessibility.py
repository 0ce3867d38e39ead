"""What the accessibility tests measure in a real Chromium page: axe-core's WCAG 2.0/2.1 A and AA checks,
boxes (tap targets, what is in view, what overlaps), focus rings and live regions.

axe-core comes from the npm registry: scripts/test.sh installs it into tests/browser/axe/node_modules
(`npm ci --prefix tests/browser/axe`); without it the axe checks are skipped, saying how to install it.
Each run's violations are added to tests/artifacts/axe.json (page, state, viewport → rule, impact, nodes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

AXE = ROOT / "tests" / "browser" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
REPORT = ROOT / "tests" / "artifacts" / "axe.json"
BLOCKING = ("serious", "critical")

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map(n => JSON.stringify(n.target))}));
}"""

# The colour behind an element (the first ancestor, across shadow roots, with a background colour) and a
# colour's relative luminance, for the contrast ratio of WCAG 2.x.
COLOUR_HELPERS = """
const rgb = c => { const m = c.match(/rgba?\\(([\\d.]+), ([\\d.]+), ([\\d.]+)(?:, ([\\d.]+))?\\)/);
  return m ? {r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4]} : null; };
const luminance = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const contrast = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05); };
const parentOf = el => el.parentElement || (el.getRootNode && el.getRootNode().host) || null;
const behind = el => { for (let node = parentOf(el); node; node = parentOf(node)) {
    const c = rgb(getComputedStyle(node).backgroundColor); if (c && c.a > 0.5) return c; }
  return {r: 255, g: 255, b: 255, a: 1}; };
"""

FOCUS_RING = "() => {" + COLOUR_HELPERS + """
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const width = parseFloat(style.outlineWidth) || 0;
  const ring = rgb(style.outlineColor);
  const shown = style.outlineStyle !== 'none' && width > 0 && ring && ring.a > 0;
  return {tag: el.tagName, text: (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40),
          width: shown ? width : 0, contrast: shown ? contrast(ring, behind(el)) : 0};
}"""


def axe_source() -> str:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: scripts/test.sh installs it (npm ci --prefix tests/browser/axe)")
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any, where: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now (recorded under ``where``)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())  # through the devtools protocol: no page's CSP stands in the way
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, AXE_TAGS)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    found = json.loads(REPORT.read_text(encoding="utf-8")) if REPORT.exists() else {}
    found[where] = violations
    REPORT.write_text(json.dumps(found, indent=1, sort_keys=True), encoding="utf-8")
    return violations


def blocking(violations: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
    """The serious and critical ones, as (rule, impact, nodes): what must be empty."""
    return [(v["id"], v["impact"], v["nodes"]) for v in violations if v["impact"] in BLOCKING]


def focus_ring(page: Any) -> dict[str, Any] | None:
    """The focused element's outline: its width and its contrast with the colour behind the element."""
    return page.evaluate(FOCUS_RING)  # type: ignore[no-any-return]


def contrast_behind(page: Any, selector: str) -> float:
    """The contrast of an element's text colour with the colour behind it."""
    return float(page.locator(selector).first.evaluate(
        "el => {" + COLOUR_HELPERS + " const own = rgb(getComputedStyle(el).backgroundColor);"
        " return contrast(rgb(getComputedStyle(el).color), own && own.a > 0.5 ? own : behind(el)); }"))


def small_targets(page: Any, root_selector: str) -> list[dict[str, Any]]:
    """Visible buttons, links, summaries and text boxes under ``root_selector`` (shadow roots included)
    smaller than 24 × 24 CSS pixels."""
    return page.locator(root_selector).first.evaluate("""root => {
      const scope = root.shadowRoot || root;
      return [...scope.querySelectorAll('button, a[href], summary, textarea, input, select')]
        .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
        .map(el => { const r = el.getBoundingClientRect();
          return {tag: el.tagName, text: (el.getAttribute('aria-label') || el.textContent).trim().slice(0, 30),
                  width: Math.round(r.width * 10) / 10, height: Math.round(r.height * 10) / 10}; })
        .filter(t => t.width < 24 || t.height < 24);
    }""")


def report_path() -> Path:
    return REPORT
