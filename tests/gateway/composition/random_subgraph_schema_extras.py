"""More shapes for the random subgraph sets (see random_subgraphs), around plain GraphQL more than federation:
value interfaces defined in several subgraphs, custom scalars, custom and executable directives (@composeDirective),
hidden enum values and input fields, subscriptions, type extensions, argument descriptions and deprecations."""

from __future__ import annotations


def _field(type_: str, *directives: str, args: str = ""):
    from random_subgraphs import FieldDef

    return FieldDef(type_, list(directives), args, external="@external" in directives)


def _fed2(world) -> list:
    return [sg for sg in world.subgraphs if not sg.fed1]


def value_interface(world) -> None:
    """`interface Named` in two subgraphs with different fields, each implemented there by a value type."""
    from random_subgraphs import TypeDef

    rng = world.rng
    subgraphs = _fed2(world)
    if rng.random() > 0.2 or len(subgraphs) < 2:
        return
    for sg in rng.sample(subgraphs, 2):
        fields = {"title": _field("String")}
        if rng.random() < 0.5:
            fields["subtitle"] = _field("String")
        sg.types["Named"] = TypeDef("interface", "Named", fields=dict(fields))
        impl = TypeDef("type", "Badge" + sg.name.capitalize(), fields=dict(fields), implements=["Named"])
        impl.fields["icon"] = _field("String")
        sg.types[impl.name] = impl
        sg.query().fields["named" + sg.name.capitalize()] = _field("[Named]")


def custom_scalar(world) -> None:
    """A custom scalar defined in several subgraphs, sometimes with @specifiedBy."""
    from random_subgraphs import TypeDef

    rng = world.rng
    if rng.random() > 0.2:
        return
    for sg in rng.sample(world.subgraphs, rng.randint(1, len(world.subgraphs))):
        directives = ['@specifiedBy(url: "https://example.com/datetime")'] if rng.random() < 0.5 else []
        sg.types["DateTime"] = TypeDef("scalar", "DateTime", directives)
        sg.query().fields["now" + sg.name.capitalize()] = _field("DateTime")


def custom_directives(world) -> None:
    """An executable directive some subgraphs define, and a composed type-system directive (@composeDirective)."""
    rng = world.rng
    subgraphs = _fed2(world)
    if rng.random() > 0.2 or not subgraphs:
        return
    for sg in rng.sample(subgraphs, rng.randint(1, len(subgraphs))):
        if rng.random() < 0.5:
            sg.directive_defs.append(rng.choice(["directive @lowercase on FIELD", "directive @lowercase on FIELD | QUERY"]))
        if rng.random() < 0.6:
            sg.minor = max(sg.minor, 5)
            args = rng.choice(["(level: Int)", "(level: Int!)", ""])
            sg.directive_defs.append(f"directive @audit{args} on FIELD_DEFINITION | OBJECT")
            sg.extra_links.append(
                '@link(url: "https://specs.example.com/audit/v1.0", import: ["@audit"]) @composeDirective(name: "@audit")'
            )
            query = sg.query()
            if query.fields:
                name = sorted(query.fields)[0]
                query.fields[name].directives.append("@audit(level: 2)" if "level" in args else "@audit")


def hidden_enum_values_and_input_fields(world) -> None:
    """@inaccessible on an enum value or an input field (an error when the input field is required)."""
    rng = world.rng
    if rng.random() > 0.25:
        return
    for sg in world.subgraphs:
        if sg.fed1:
            continue
        tier = sg.types.get("Tier")
        if tier is not None and rng.random() < 0.5:
            index = rng.randrange(len(tier.values))
            tier.values[index] = tier.values[index].split(" ")[0] + " @inaccessible"
        filter_type = sg.types.get("Filter")
        if filter_type is not None and rng.random() < 0.5:
            name = rng.choice(sorted(filter_type.fields))
            filter_type.fields[name].directives.append("@inaccessible")


def subscription_root(world) -> None:
    """A subscription in one subgraph."""
    from random_subgraphs import TypeDef

    rng = world.rng
    subgraphs = _fed2(world)
    if rng.random() > 0.1 or not subgraphs:
        return
    sg = rng.choice(subgraphs)
    sg.types["Subscription"] = TypeDef("type", "Subscription", fields={"ticks": _field("Int")})


def type_extensions(world) -> None:
    """A fed2 subgraph writing an entity as `extend type` (no base needed there: another subgraph has it)."""
    rng = world.rng
    if rng.random() > 0.15:
        return
    for sg in _fed2(world):
        for t in sg.types.values():
            if t.kind == "type" and t.name not in ("Query", "Mutation") and rng.random() < 0.3:
                t.extend = True
                return


def argument_details(world) -> None:
    """Arguments with descriptions or @deprecated, on root fields."""
    rng = world.rng
    if rng.random() > 0.2:
        return
    for sg in world.subgraphs:
        if sg.fed1 or "Query" not in sg.types:
            continue
        for f in sg.query().fields.values():
            if f.args.startswith("(") and ":" in f.args and rng.random() < 0.5:
                name, rest = f.args[1:].split(":", 1)
                if rng.random() < 0.5:
                    f.args = f'("""Which {name}."""\n    {name}:{rest}'
                elif "!" not in rest.split(")")[0]:
                    f.args = f"({name}:{rest[:-1]} @deprecated)"


SCHEMA_EXTRAS = [
    value_interface,
    custom_scalar,
    custom_directives,
    hidden_enum_values_and_input_fields,
    subscription_root,
    type_extensions,
    argument_details,
]
