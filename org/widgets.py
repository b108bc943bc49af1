"""Form widgets of the house."""
from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class CheckboxList(forms.CheckboxSelectMultiple):
    """Django's CheckboxSelectMultiple, its markup unchanged, written in Python: Django renders three
    nested templates per option (the option, its input, its attributes), about 0.25 ms each box,
    and a list of every service a consent may name has sixty of them on a page. Groups (optgroups)
    are not used by the house's checkbox lists and are written as Django writes them."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group, options, _index in widget["optgroups"]:
            boxes = format_html_join("", "<div>\n    {}</div>", ((self._option(option),) for option in options))
            groups.append(format_html("\n  <div><label>{}</label>{}\n  </div>", group, boxes) if group else boxes)
        outer = {k: v for k in ("id", "class") if (v := widget["attrs"].get(k))}
        return format_html("<div{}>{}\n</div>", _attributes(outer), mark_safe("".join(groups)))

    @staticmethod
    def _option(option) -> str:
        attrs = {k: (True if v is True else str(v)) for k, v in option["attrs"].items() if v is not False}
        value = format_html(' value="{}"', str(option["value"])) if option["value"] is not None else ""
        box = format_html('<input type="{}" name="{}"{}{}>', option["type"], option["name"], value, _attributes(attrs))
        if not option.get("wrap_label"):
            return box
        label_for = format_html(' for="{}"', attrs["id"]) if attrs.get("id") else ""
        return format_html("<label{}>{} {}</label>", label_for, box, option["label"])


def _attributes(attrs: dict) -> str:
    """The attributes as Django's attrs.html writes them: ``name="value"``, a bare name for True."""
    return format_html_join("", " {}{}", ((k, "" if v is True else format_html('="{}"', v)) for k, v in attrs.items()))
