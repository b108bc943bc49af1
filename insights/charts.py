"""Server-rendered SVG charts of the insights' published figures: no script, no CDN.

Every chart is ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (named by
``aria-labelledby``), and the page puts a real table of the same figures beside it. A hidden
(suppressed) figure, ``None``, is never drawn to scale: it gets no bar, no point, no shade, and
reads ``hidden`` where its value would stand, so its size cannot be measured off the picture.

Colours reach at least 3:1 against white (WCAG 1.4.11, graphics) and text 4.5:1; series also
differ by pattern or marker and are named in a legend, so nothing is told by colour alone.
"""
from xml.sax.saxutils import escape

from django.utils import formats
from django.utils.translation import gettext as _

# (colour, dash pattern for lines): all at least 4.5:1 against white.
PALETTE = (("#1f5fa8", ""), ("#b3261e", "6 3"), ("#1e6b34", "2 2"), ("#8a5a00", "8 3 2 3"), ("#6a3d9a", "1 3"), ("#404040", "10 4"))
TEXT = "#1a1a1a"
GRID = "#767676"


def _marker() -> str:
    return _("hidden")


def _num(value) -> str:
    return _marker() if value is None else formats.number_format(value, 0, force_grouping=True)


def _open(ident, title, description, width, height) -> list[str]:
    ident = f"ins-{ident}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{ident}-title {ident}-desc" class="ins-chart">',
        f'<title id="{ident}-title">{escape(str(title))}</title>',
        f'<desc id="{ident}-desc">{escape(str(description))}</desc>',
    ]


def _text(x, y, text, *, size=12, anchor="start", weight="normal"):
    return (f'<text x="{x}" y="{y}" font-size="{size}" fill="{TEXT}" text-anchor="{anchor}" '
            f'font-weight="{weight}">{escape(str(text))}</text>')


def _clip(label, n=28) -> str:
    label = str(label)
    return label if len(label) <= n else label[: n - 1] + "…"


def bars(ident, title, labels, values, *, description="") -> str:
    """Horizontal bars, one per label, its count written beside it (or "hidden", without a bar)."""
    description = description or _("One bar per group. The same figures are in the table beside the chart.")
    bar_h, gap, label_w, bar_w = 18, 6, 210, 320
    width, height = label_w + bar_w + 90, 10 + max(len(labels), 1) * (bar_h + gap)
    top = max([v for v in values if v is not None] + [1])
    out = _open(ident, title, description, width, height)
    colour = PALETTE[0][0]
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 6 + i * (bar_h + gap)
        out.append(_text(0, y + bar_h - 5, _clip(label)))
        end = label_w
        if value is not None and value > 0:
            length = round(bar_w * value / top, 1)
            out.append(f'<rect x="{label_w}" y="{y}" width="{length}" height="{bar_h}" fill="{colour}"/>')
            end += length
        out.append(_text(end + 6, y + bar_h - 5, _num(value)))
    out.append("</svg>")
    return "".join(out)


def grouped_bars(ident, title, categories, series, *, description="") -> str:
    """Vertical bars grouped by category (the months), one bar per series (opened, closed), each
    with a legend entry; a hidden value has no bar and a small "hidden" mark under its slot."""
    description = description or _("Bars grouped by month. The same figures are in the tables beside the chart.")
    n = max(len(series), 1)
    slot, bar_gap, left, plot_h, top_pad = 18, 2, 40, 180, 30
    group_w = n * slot + 10
    width, height = left + len(categories) * group_w + 10, top_pad + plot_h + 60
    top = max([v for _name, values in series for v in values if v is not None] + [1])
    out = _open(ident, title, description, width, height)
    out.append(f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" stroke="{GRID}"/>')
    out.append(_text(left - 4, top_pad + 4, _num(top), size=10, anchor="end"))
    out.append(_text(left - 4, top_pad + plot_h, "0", size=10, anchor="end"))
    for s, (name, _values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)][0]
        x = left + s * 150
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>')
        out.append(_text(x + 16, 17, name))
    for c, category in enumerate(categories):
        gx = left + c * group_w + 5
        for s, (_name, values) in enumerate(series):
            value = values[c] if c < len(values) else None
            colour = PALETTE[s % len(PALETTE)][0]
            x = gx + s * slot
            if value is None:
                out.append(_text(x + slot / 2, top_pad + plot_h - 4, "?", size=10, anchor="middle"))
            elif value > 0:
                h = round(plot_h * value / top, 1)
                out.append(f'<rect x="{x}" y="{top_pad + plot_h - h}" width="{slot - bar_gap}" height="{h}" fill="{colour}">'
                           f'<title>{escape(f"{category}, {name_of(series, s)}: {_num(value)}")}</title></rect>')
        out.append(_text(gx + n * slot / 2, top_pad + plot_h + 16, category, size=11, anchor="middle"))
    out.append(_text(left, height - 8, _("“?”: hidden (a small number, or hidden to protect one)."), size=10))
    out.append("</svg>")
    return "".join(out)


def name_of(series, s) -> str:
    return str(series[s][0])


def lines(ident, title, categories, series, *, description="") -> str:
    """A line per series over the categories (months); a hidden point is left out and breaks the
    line, so no hidden value can be read off its neighbours' slope."""
    description = description or _("One line per series. The same figures are in the table beside the chart.")
    left, plot_w, plot_h, top_pad = 40, 560, 180, 10
    legend_h = 18 * max(len(series), 1)
    width, height = left + plot_w + 20, top_pad + plot_h + 30 + legend_h
    top = max([v for _name, values in series for v in values if v is not None] + [1])
    step = plot_w / max(len(categories) - 1, 1)
    out = _open(ident, title, description, width, height)
    out.append(f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="{GRID}"/>')
    out.append(_text(left - 4, top_pad + 8, _num(top), size=10, anchor="end"))
    out.append(_text(left - 4, top_pad + plot_h, "0", size=10, anchor="end"))
    for c, category in enumerate(categories):
        out.append(_text(left + c * step, top_pad + plot_h + 16, category, size=10, anchor="middle"))
    for s, (name, values) in enumerate(series):
        colour, dash = PALETTE[s % len(PALETTE)]
        segment = []
        pieces = []
        for c, value in enumerate(values):
            if value is None:
                if segment:
                    pieces.append(segment)
                segment = []
                continue
            segment.append((round(left + c * step, 1), round(top_pad + plot_h - plot_h * value / top, 1)))
        if segment:
            pieces.append(segment)
        for piece in pieces:
            points = " ".join(f"{x},{y}" for x, y in piece)
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dashed}/>')
            out.extend(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>' for x, y in piece)
        ly = top_pad + plot_h + 30 + s * 18
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{left}" y1="{ly - 4}" x2="{left + 24}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"{dashed}/>')
        out.append(_text(left + 30, ly, name, size=11))
    out.append("</svg>")
    return "".join(out)


def stacked_bars(ident, title, segment_names, bars_, *, description="") -> str:
    """Horizontal stacked bars (one per label, segments by state); a hidden segment is not drawn and
    is named "hidden" in the bar's text, and no bar shows a total."""
    description = description or _("One bar per group, divided by state. The same figures are in the table beside the chart.")
    bar_h, gap, label_w, bar_w = 18, 24, 210, 320
    width = label_w + bar_w + 20
    height = 30 + max(len(bars_), 1) * (bar_h + gap)
    top = max([sum(v for v in values if v is not None) for _label, values in bars_] + [1])
    out = _open(ident, title, description, width, height)
    x = 0
    for s, name in enumerate(segment_names):
        colour = PALETTE[s % len(PALETTE)][0]
        out.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>')
        out.append(_text(x + 16, 15, name, size=11))
        x += 16 + 7 * len(str(name)) + 14
    for i, (label, values) in enumerate(bars_):
        y = 28 + i * (bar_h + gap)
        out.append(_text(0, y + bar_h - 5, _clip(label)))
        x = label_w
        for s, value in enumerate(values):
            if value:
                length = round(bar_w * value / top, 1)
                colour = PALETTE[s % len(PALETTE)][0]
                out.append(f'<rect x="{x}" y="{y}" width="{length}" height="{bar_h}" fill="{colour}" stroke="#ffffff">'
                           f'<title>{escape(f"{label}, {segment_names[s]}: {_num(value)}")}</title></rect>')
                x += length
        text = ", ".join(f"{segment_names[s]}: {_num(v)}" for s, v in enumerate(values))
        out.append(_text(label_w, y + bar_h + 14, _clip(text, 80), size=10))
    out.append("</svg>")
    return "".join(out)


def heat_matrix(ident, title, rows, columns, cells, *, description="") -> str:
    """The flow matrix as a heat table: one square per (from, to), darker for more, its count
    written in it; a hidden square is hatched, unshaded, and reads "hidden"."""
    description = description or _("Rows: the service a case came from; columns: the service holding it. "
                                    "The same figures are in the table beside the chart.")
    cell_w, cell_h, left, top_pad = 70, 30, 210, 120
    width, height = left + max(len(columns), 1) * cell_w + 10, top_pad + max(len(rows), 1) * cell_h + 10
    top = max([v for row in cells for v in row if v is not None] + [1])
    out = _open(ident, title, description, width, height)
    out.append(f'<defs><pattern id="ins-{ident}-hatch" width="6" height="6" patternUnits="userSpaceOnUse">'
               f'<rect width="6" height="6" fill="#ffffff"/><path d="M0,6 L6,0" stroke="{GRID}" stroke-width="1"/></pattern></defs>')
    for j, column in enumerate(columns):
        x = left + j * cell_w + cell_w / 2
        out.append(f'<text x="{x}" y="{top_pad - 6}" font-size="11" fill="{TEXT}" transform="rotate(-40 {x} {top_pad - 6})">'
                   f'{escape(_clip(column, 20))}</text>')
    for i, label in enumerate(rows):
        y = top_pad + i * cell_h
        out.append(_text(0, y + cell_h / 2 + 4, _clip(label)))
        for j, value in enumerate(cells[i]):
            x = left + j * cell_w
            if value is None:
                fill, ink = f"url(#ins-{ident}-hatch)", TEXT
            else:
                share = value / top
                # From white to the palette's blue; text turns white where the shade is dark.
                shade = round(255 - share * (255 - 31)), round(255 - share * (255 - 95)), round(255 - share * (255 - 168))
                fill, ink = "#%02x%02x%02x" % shade, ("#ffffff" if share > 0.5 else TEXT)
            out.append(f'<rect x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" fill="{fill}" stroke="{GRID}" stroke-width="0.5"/>')
            out.append(f'<text x="{x + cell_w / 2}" y="{y + cell_h / 2 + 4}" font-size="11" fill="{ink}" text-anchor="middle">'
                       f'{escape(_num(value))}</text>')
    out.append("</svg>")
    return "".join(out)
