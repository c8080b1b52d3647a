"""Details the printed supergraph must reproduce exactly, for the random subgraph sets (see random_subgraphs):
descriptions with awkward characters, default values of every shape, @tag and @deprecated in unusual places,
input fields whose nullability differs between subgraphs, and @requires on fields with arguments."""

from __future__ import annotations

DESCRIPTIONS = [
    'Says "hello".',
    "Line one.\n  Line two, indented.",
    "Ünïcödé — and a tab\there.",
    "Ends with a quote\"",
    "Back\\slash and $dollar",
    "",
]


def _field(type_: str, *directives: str, args: str = ""):
    from random_subgraphs import FieldDef

    return FieldDef(type_, list(directives), args, external="@external" in directives)


def odd_descriptions(world) -> None:
    """Descriptions with quotes, line breaks, unicode, backslashes or nothing at all."""
    rng = world.rng
    if rng.random() > 0.2:
        return
    for sg in world.subgraphs:
        for t in sg.types.values():
            if t.extend:
                continue
            if rng.random() < 0.2:
                t.description = rng.choice(DESCRIPTIONS)
            for name, f in t.fields.items():
                if rng.random() < 0.1:
                    f.description = rng.choice(DESCRIPTIONS)


def default_shapes(world) -> None:
    """Arguments with defaults of many shapes: enums, lists, objects, null, negative and exponent numbers."""
    rng = world.rng
    if rng.random() > 0.25:
        return
    sg = rng.choice([s for s in world.subgraphs if not s.fed1] or world.subgraphs)
    args = rng.sample(
        [
            "limit: Int = -3",
            "ratio: Float = -1.5e-3",
            "ratios: [Float] = [1, 2.50]",
            "ids: [ID!] = [\"10\", \"a\"]",
            "note: String = null",
            'text: String = "a \\"quoted\\" word"',
            "flag: Boolean = false",
        ],
        rng.randint(1, 3),
    )
    if "Tier" in sg.types:
        values = [v.split(" ")[0] for v in sg.types["Tier"].values]
        args.append(f"tier: Tier = {values[0]}")
        args.append(f"tiers: [Tier] = [{', '.join(values[:2])}]")
    if "Filter" in sg.types:
        args.append('filter: Filter = {name: "x"}')
    sg.query().fields["shaped" + sg.name.capitalize()] = _field("Int", args="(" + ", ".join(args) + ")")


def tags_everywhere(world) -> None:
    """@tag on arguments, enum values, input fields, interfaces, unions and scalars."""
    rng = world.rng
    if rng.random() > 0.2:
        return
    for sg in world.subgraphs:
        if sg.fed1:
            continue
        for t in sg.types.values():
            if t.kind in ("interface", "union", "scalar", "input", "enum") and rng.random() < 0.4:
                t.directives.append(f'@tag(name: "{t.kind}")')
            if t.kind == "enum" and t.values and rng.random() < 0.4:
                t.values[0] = t.values[0] + ' @tag(name: "value")'
            if t.kind == "input":
                for f in t.fields.values():
                    if rng.random() < 0.3:
                        f.directives.append('@tag(name: "input")')
            for f in t.fields.values():
                if t.kind == "type" and f.args.endswith(")") and "@" not in f.args and rng.random() < 0.3:
                    f.args = f.args[:-1] + ' @tag(name: "arg"))'


def deprecations_elsewhere(world) -> None:
    """@deprecated on enum values and input fields (nullable ones: required ones may not be deprecated)."""
    rng = world.rng
    if rng.random() > 0.15:
        return
    for sg in world.subgraphs:
        tier = sg.types.get("Tier")
        if tier is not None and len(tier.values) > 1 and rng.random() < 0.5:
            tier.values[-1] = tier.values[-1] + ' @deprecated(reason: "gone")'
        filter_type = sg.types.get("Filter")
        if filter_type is not None and rng.random() < 0.5:
            for f in filter_type.fields.values():
                if not f.type.split(" ")[0].endswith("!"):
                    f.directives.append("@deprecated")
                    break


def input_nullability(world) -> None:
    """An input field non-null in one subgraph and nullable in another (merged to the stricter type)."""
    rng = world.rng
    defining = [sg for sg in world.subgraphs if "Filter" in sg.types]
    if rng.random() > 0.25 or len(defining) < 2:
        return
    f = defining[0].types["Filter"].fields["name"]
    if "=" not in f.type and not f.type.endswith("!"):
        f.type += "!"


def requires_with_arguments(world) -> None:
    """A field with an argument, required with a value for it by another subgraph."""
    rng = world.rng
    candidates = [
        (owner, entity)
        for entity, owners in world.owners.items()
        for owner in {id(o): o for o in owners.values()}.values()
        if not owner.fed1 and entity in owner.types
    ]
    if rng.random() > 0.15 or not candidates:
        return
    owner, entity = rng.choice(candidates)
    others = [s for s in world.subgraphs if s is not owner and not s.fed1 and entity in s.types]
    if not others:
        return
    owner.types[entity].fields["localPrice"] = _field("Float", args='(currency: String = "EUR")')
    other = rng.choice(others)
    other.types[entity].fields["localPrice"] = _field("Float", "@external", args='(currency: String = "EUR")')
    other.types[entity].fields["priceLabel"] = _field("String", '@requires(fields: "localPrice(currency: \\"USD\\")")')


VALUE_EXTRAS = [
    odd_descriptions,
    default_shapes,
    tags_everywhere,
    deprecations_elsewhere,
    input_nullability,
    requires_with_arguments,
]
