"""Forms of the BrukerPlan pages. The rules live in the services (round_create, mapping_scope_mark,
mapping_save): the forms say which fields a page asks for, and hand on what was chosen so that the
service's translated refusal lands on its field. A level or a kind off the list is the service's to
refuse (its message names the life area), so those fields accept any value here."""
from django import forms
from django.utils.translation import gettext_lazy as _

from org.models import Service
from org.widgets import CheckboxList
from referrals.models import BrukerPlanMapping, BrukerPlanRound, HelpKind, LifeArea, help_kinds_decode, level_field
from workflows.individual_plan.forms import NameChoiceField

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes_no(value) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def yes_no_initial(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "")


class RoundCreateForm(forms.Form):
    """Set a round up: the coordinating service (among the user's), the period, reference date and
    deadline, the age threshold, the participating services (the municipality's active services)
    and the closed round to compare with."""

    title = forms.CharField(label=_("Title"), max_length=120, required=False, help_text=_("For example “BrukerPlan 2026”."))
    coordinator_service = NameChoiceField(label=_("Coordinating service"), queryset=Service.objects.none(), required=False,
                                          empty_label=None)
    period_start = forms.DateField(label=_("Mapping period from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("Mapping period to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reference_date = forms.DateField(label=_("Reference date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                     help_text=_("Ages and the last twelve months are counted at this date. It lies inside the mapping period."))
    deadline = forms.DateField(label=_("Deadline"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("The day by which every participating service has mapped its users."))
    age_threshold = forms.TypedChoiceField(label=_("Age threshold"), choices=BrukerPlanRound.AgeThreshold.choices, coerce=int,
                                           initial=BrukerPlanRound.AgeThreshold.SIXTEEN, widget=forms.RadioSelect)
    services = forms.ModelMultipleChoiceField(label=_("Participating services"), queryset=Service.objects.none(), required=False,
                                              widget=CheckboxList)
    previous_round = forms.ModelChoiceField(label=_("Compare with the round"), queryset=BrukerPlanRound.objects.none(), required=False,
                                            empty_label=_("No earlier round"))

    def __init__(self, *args, coordinators=(), services=(), previous_rounds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coordinator_service"].show(coordinators)
        services = list(services)
        self.fields["services"].queryset = Service.objects.filter(pk__in=[s.pk for s in services]).order_by("name")
        self.fields["services"].label_from_instance = lambda s: s.name
        previous = list(previous_rounds)
        self.fields["previous_round"].queryset = BrukerPlanRound.objects.filter(pk__in=[r.pk for r in previous])
        self.fields["previous_round"].label_from_instance = lambda r: r.title


class ScopeMarkForm(forms.Form):
    """One worklist row's assessment: in scope (and why) or not. ``person`` is the person's code
    (in the form's body, never the address); ``version`` the mapping's version the row showed, 0
    when it showed no mapping (services.mapping_scope_mark refuses a row from another state)."""

    OUT = "out"
    person = forms.CharField(widget=forms.HiddenInput)
    version = forms.CharField(widget=forms.HiddenInput, required=False)
    assessment = forms.ChoiceField(
        label=_("Assessment"),
        choices=[("", _("Choose …")), *BrukerPlanMapping.ScopeReason.choices, (OUT, _("Not in scope"))],
        required=False,
    )

    def in_scope(self) -> bool:
        return self.cleaned_data["assessment"] != self.OUT

    def reason(self) -> str:
        return "" if self.cleaned_data["assessment"] == self.OUT else self.cleaned_data["assessment"]


class MappingForm(forms.Form):
    """The mapping: sex, children, each life area's level on the round's scale (``scales``:
    selectors.round_scales), services used and expected need, LAR, TSB, ansvarsgruppe and plan.
    With ``plan`` (selectors.plan_status_for), the two plan answers are the plan's, shown and not asked."""

    version = forms.CharField(widget=forms.HiddenInput, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=BrukerPlanMapping.Sex.choices, widget=forms.RadioSelect, required=False)
    has_children = forms.ChoiceField(label=_("Cares for children under 18"), choices=YES_NO, widget=forms.RadioSelect, required=False)
    services_used = forms.MultipleChoiceField(label=_("Services used in the last year"), choices=HelpKind.choices,
                                              widget=CheckboxList, required=False)
    expected_need = forms.MultipleChoiceField(label=_("Expected need next year"), choices=HelpKind.choices,
                                              widget=CheckboxList, required=False)
    lar = forms.ChoiceField(label=_("In opioid substitution treatment (LAR)"), choices=YES_NO, widget=forms.RadioSelect, required=False)
    tsb = forms.ChoiceField(label=_("In specialist substance treatment (TSB)"), choices=YES_NO, widget=forms.RadioSelect, required=False)
    ansvarsgruppe = forms.ChoiceField(label=_("Has an ansvarsgruppe"), choices=BrukerPlanMapping.Answer.choices, widget=forms.RadioSelect,
                                      required=False)
    individual_plan = forms.ChoiceField(label=_("Has an individual plan"), choices=BrukerPlanMapping.Answer.choices,
                                        widget=forms.RadioSelect, required=False)

    def __init__(self, *args, scales: dict, plan: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        for area in LifeArea.values:
            choices = [(str(level.level), f"{level.level} – {level.get_colour_display()}: {level.description}") for level in scales.get(area, [])]
            # Any value reaches the service, which refuses one off the scale with a message naming the area.
            self.fields[level_field(area)] = forms.CharField(label=LifeArea(area).label, required=False,
                                                             widget=forms.RadioSelect(choices=choices))
        if plan is not None:
            for field in ("ansvarsgruppe", "individual_plan"):
                self.fields[field].disabled = True
                self.fields[field].help_text = _("Read from the individual plan your service takes part in.")
        for field in ("services_used", "expected_need"):
            # Kinds off the list reach the service too (its message says to choose among them).
            self.fields[field].valid_value = lambda value: True

    def level_fields(self):
        return [self[level_field(area)] for area in LifeArea.values]

    def other_fields(self):
        return [self[name] for name in ("services_used", "expected_need", "lar", "tsb", "ansvarsgruppe", "individual_plan")]

    def values(self) -> dict:
        """The service's keyword arguments (mapping_save) from the cleaned data."""
        d = self.cleaned_data
        return dict(
            version=d["version"], sex=d["sex"], has_children=_yes_no(d["has_children"]),
            levels={area: d[level_field(area)] for area in LifeArea.values}, services_used=d["services_used"],
            expected_need=d["expected_need"], lar=_yes_no(d["lar"]), tsb=_yes_no(d["tsb"]), ansvarsgruppe=d["ansvarsgruppe"],
            individual_plan=d["individual_plan"],
        )


def mapping_initial(mapping: BrukerPlanMapping, plan: dict | None) -> dict:
    initial = {
        "version": mapping.version, "sex": mapping.sex, "has_children": yes_no_initial(mapping.has_children),
        "services_used": list(help_kinds_decode(mapping.services_used or 0)),
        "expected_need": list(help_kinds_decode(mapping.expected_need or 0)),
        "lar": yes_no_initial(mapping.lar), "tsb": yes_no_initial(mapping.tsb), "ansvarsgruppe": mapping.ansvarsgruppe,
        "individual_plan": mapping.individual_plan,
    }
    for area, level in mapping.levels().items():
        initial[level_field(area)] = "" if level is None else str(level)
    if plan is not None:
        initial.update(plan)
    return initial

