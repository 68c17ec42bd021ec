from __future__ import annotations

import re
from typing import Any

from bot.commands import all_specs
from bot.commands.registry import CommandSpec
from bot.domain import FormField, Reply
from bot.domain.params import Param, id_param
from bot.domain.views import CommandInfo
from integrations.discord.tree import (
    BOOLEAN,
    INTEGER,
    USER,
    build_tree,
    focused,
    invoked,
)

NAME = re.compile(r"^[-_a-z0-9]{1,32}$")
TEMPLATES = ["dissonance", "weekly-reflection"]


def size(option: dict[str, Any]) -> int:
    """Discord's count toward its 8,000-character limit per command."""
    total = len(option.get("name", "")) + len(option.get("description", ""))
    total += sum(len(c["name"]) + len(str(c["value"])) for c in option.get("choices", []))
    return total + sum(size(o) for o in option.get("options", []))


def walk(option: dict[str, Any]) -> list[dict[str, Any]]:
    return [option, *(x for o in option.get("options", []) for x in walk(o))]


def data(*names: str, **values: Any) -> dict[str, Any]:
    """An interaction's data for /cycles <names…> with option values."""
    options: list[dict[str, Any]] = [{"name": k, "type": 3, "value": v} for k, v in values.items()]
    for name in reversed(names):
        options = [{"name": name, "type": 1, "options": options}]
    if len(names) == 2:
        options[0]["type"] = 2
    return {"name": "cycles", "options": options}


def test_every_command_has_a_subcommand_within_discords_limits() -> None:
    specs = all_specs()
    tree = build_tree(specs, TEMPLATES)
    payload = tree.payload()
    assert {s.words for s in tree.subcommands.values()} == {spec.path for spec in specs}
    assert size(payload) < 8000
    assert len(payload["options"]) <= 25
    for option in walk(payload):
        assert NAME.match(option["name"]), option["name"]
        assert 1 <= len(option["description"]) <= 100
        assert len(option.get("options", [])) <= 25
        assert len(option.get("choices", [])) <= 25
        required = [o.get("required", False) for o in option.get("options", [])]
        assert required == sorted(required, reverse=True)  # required options come first
    assert payload["contexts"] == [0]


def test_typed_options() -> None:
    tree = build_tree(all_specs(), TEMPLATES)
    start = {p.name: p for p in tree.subcommands[("round", "start")].params}
    # Suggested, not fixed: a group's own templates can be typed too.
    assert (start["template"].choices, start["template"].autocomplete) == ((), "template")
    show = tree.subcommands[("experiment", "show")].params[0]
    assert (show.type, show.required, show.autocomplete) == (INTEGER, True, "experiment")
    role = {p.name: p for p in tree.subcommands[("role", "add")].params}
    assert role["user"].type == USER and [c[1] for c in role["role"].choices] == [
        "facilitator",
        "leader",
    ]
    checkin = {p.name: p for p in tree.subcommands[("checkin", "new")].params}
    assert (checkin["surprise"].type, checkin["surprise"].min_value) == (INTEGER, 0)
    assert checkin["surprise"].max_value == 100
    assert [c[1] for c in checkin["visibility"].choices] == ["group", "facilitators", "private"]
    assert tree.subcommands[("digest", "preview")].params[0].type == BOOLEAN
    assert tree.subcommands[("experiment", "new")].params[-1].autocomplete == "cycle"


def test_invocations_become_the_core_grammar() -> None:
    tree = build_tree(all_specs(), TEMPLATES)
    cases = [
        (
            data("round", "start", template="dissonance", duration="3d"),
            "round start dissonance for 3d",
        ),
        (data("round", "start"), "round start"),
        (data("role", "add", user="1234", role="leader"), "role add 1234 leader"),
        (data("digest", "preview", leader=True), "digest preview leader"),
        (data("digest", "preview", leader=False), "digest preview"),
        (data("digest", "schedule", cron="0 9 * * mon"), "digest schedule 0 9 * * mon"),
        (data("help", command="round start"), "help round start"),
        (data("alarms", "list"), "alarms"),
        (data("answer", round=4), "answer 4"),
    ]
    for given, text in cases:
        found = invoked(tree, given)
        assert found is not None and found.text == text, (given, found)
    found = invoked(tree, data("checkin", "new", experiment=3, happened="It went", surprise=80))
    assert found is not None
    assert (found.text, found.fields) == ("checkin 3", {"happened": "It went", "surprise": "80"})
    assert invoked(tree, data("nothing", "here")) is None


def test_autocomplete_focus() -> None:
    given = data("experiment", "show", experiment="car")
    given["options"][0]["options"][0]["options"][0]["focused"] = True
    assert focused(given) == (("experiment", "show"), "experiment", "car")


def test_hash_changes_with_the_grammar_and_scope_only() -> None:
    specs = all_specs()
    one, two = build_tree(specs, TEMPLATES), build_tree(specs, TEMPLATES)
    assert one.digest("1:global") == two.digest("1:global")
    assert one.digest("1:global") != one.digest("1:42")

    async def handler(inv: Any, args: Any) -> Reply:
        return Reply.text("hi")

    extra = CommandSpec(("zeta",), "zeta <thing>", "A new one.", handler, (FormField("x", "X"),))
    three = build_tree([*specs, extra], TEMPLATES)
    assert three.digest("1:global") != one.digest("1:global")
    [args, x] = three.subcommands[("zeta",)].params
    assert (args.name, args.kind, x.kind) == ("args", "raw", "field")


def test_a_new_command_declares_its_options_without_touching_the_adapter() -> None:
    async def handler(inv: Any, args: Any) -> Reply:
        return Reply.text("hi")

    params = (
        id_param("round", "round", "round"),
        Param("mood", "choice", "How it went", required=True, options=("good", "bad")),
        Param("tries", "integer", "How many tries", minimum=1, maximum=9),
        Param("template", "template", "Which template", autocomplete="template"),
        Param("who", "user", "Who"),
        Param("loud", "flag", "Say it loudly"),
        Param("note", "text", "The rest", rest=True, prefix="with"),
    )
    spec = CommandSpec(("zeta", "go"), "zeta go <round> good|bad …", "New.", handler, params=params)
    tree = build_tree([*all_specs(), spec], TEMPLATES)
    options = {o.name: o for o in tree.subcommands[("zeta", "go")].params}
    assert [o.name for o in options.values()][:2] == ["round", "mood"]  # required first
    assert (options["round"].type, options["round"].autocomplete) == (INTEGER, "round")
    assert options["round"].min_value == 1
    assert [c[1] for c in options["mood"].choices] == ["good", "bad"]
    assert (options["tries"].min_value, options["tries"].max_value) == (1, 9)
    assert (options["template"].choices, options["template"].autocomplete) == ((), "template")
    assert options["who"].type == USER and options["loud"].type == BOOLEAN
    found = invoked(
        tree, data("zeta", "go", round=4, mood="good", loud=True, note="it went", who="77")
    )
    assert found is not None and found.text == "zeta go 4 good 77 loud with it went"


def test_the_port_command_info_builds_the_same_tree_as_the_specs() -> None:
    specs = all_specs()
    infos = [CommandInfo(s.path, s.usage, s.summary, s.fields, s.params) for s in specs]
    assert build_tree(infos, TEMPLATES).payload() == build_tree(specs, TEMPLATES).payload()
