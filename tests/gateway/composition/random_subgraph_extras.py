"""Less common shapes for the random subgraph sets (see random_subgraphs): each function may add one to a built world
(federation 1 subgraphs, unions, access control, descriptions and deprecations, arguments on shared fields,
compatible types, renamed imports, renamed roots, several keys, cost directives)."""

from __future__ import annotations


def _field(type_: str, *directives: str, args: str = ""):
    from random_subgraphs import FieldDef

    return FieldDef(type_, list(directives), args, external="@external" in directives)


def _entities(world) -> list[tuple[object, object]]:
    """(subgraph, type) for every entity type a fed2 subgraph defines."""
    return [
        (sg, t)
        for sg in world.subgraphs
        if not sg.fed1
        for t in sg.types.values()
        if t.kind == "type" and any(d.startswith("@key") for d in t.directives) and "@interfaceObject" not in t.directives
    ]


def federation1_subgraph(world) -> None:
    """A federation 1 subgraph extending an entity (and sometimes wrongly using a fed2 directive)."""
    from random_subgraphs import SubgraphDef, TypeDef

    rng = world.rng
    if rng.random() > 0.12 or not world.owners:
        return
    sg = SubgraphDef("legacy", 0, fed1=True)
    entity = rng.choice(sorted(world.owners))
    t = sg.type("type", entity)
    t.extend = True
    t.directives.append('@key(fields: "id")')
    t.fields = {"id": _field("ID!", "@external"), "legacyPoints": _field("Int")}
    if rng.random() < 0.3:
        t.fields["legacyPoints"].directives.append(rng.choice(["@shareable", "@inaccessible", '@tag(name: "old")']))
    sg.types["Query"] = TypeDef("type", "Query", fields={"legacyHello": _field("String")})
    if rng.random() < 0.4 and any("Money" in s.types for s in world.subgraphs):
        sg.types["Money"] = TypeDef("type", "Money", fields={"amount": _field("Float"), "currency": _field("String")})
        sg.query().fields["legacyBalance"] = _field("Money")
    world.subgraphs.append(sg)


def union_of_entities(world) -> None:
    """A union defined in two subgraphs with different members (merged by union)."""
    rng = world.rng
    entities = _entities(world)
    if rng.random() > 0.25 or not entities:
        return
    for sg in rng.sample(world.subgraphs, min(2, len(world.subgraphs))):
        if sg.fed1:
            continue
        mine = sorted({t.name for s, t in entities if s is sg})
        if not mine:
            continue
        u = sg.type("union", "SearchHit")
        u.members = rng.sample(mine, rng.randint(1, len(mine)))
        sg.query().fields["find" + sg.name.capitalize()] = _field("[SearchHit]")


def access_control(world) -> None:
    """@authenticated, @requiresScopes or @policy on entity fields and types (federation 2.6)."""
    rng = world.rng
    if rng.random() > 0.25:
        return
    for sg, t in _entities(world):
        if rng.random() < 0.5:
            continue
        sg.minor = max(sg.minor, 6)
        directive = rng.choice(
            ["@authenticated", '@requiresScopes(scopes: [["read"]])', '@policy(policies: [["staff"]])']
        )
        fields = [f for name, f in t.fields.items() if name != "id" and not f.external]
        if fields and rng.random() < 0.7:
            rng.choice(fields).directives.append(directive)
        else:
            t.directives.append(directive)
    if rng.random() < 0.15:  # refused: on an interface
        for sg in world.subgraphs:
            itf = sg.types.get("Reward")
            if itf is not None and itf.kind == "interface":
                sg.minor = max(sg.minor, 6)
                itf.directives.append("@authenticated")


def descriptions_and_deprecations(world) -> None:
    """Field descriptions (sometimes differing between subgraphs) and @deprecated fields."""
    rng = world.rng
    if rng.random() > 0.3:
        return
    for sg, t in _entities(world):
        for name, f in t.fields.items():
            if name == "id" or f.external:
                continue
            roll = rng.random()
            if roll < 0.2:
                t.fields[name] = _described(f, rng.choice([f"The {name}.", f"The {name} as {sg.name} sees it."]))
            elif roll < 0.3:
                f.directives.append(rng.choice(["@deprecated", '@deprecated(reason: "use rank")']))


def _described(f, text: str):
    # Descriptions are printed before the field name: carried in `args` would be wrong, so in the name's slot.
    f.description = text
    return f


def shared_field_arguments(world) -> None:
    """A @shareable field with arguments that differ across subgraphs (merged by intersection) and defaults."""
    rng = world.rng
    if rng.random() > 0.3:
        return
    # (Only fields shared as such: a field another subgraph provides has @external copies, which would need them too.)
    shared = set(world.shared)
    shareable = [(s, t, n) for s, t in _entities(world) for n in t.fields if (t.name, n) in shared]
    for sg, t, name in shareable:
        args = rng.sample(['first: Int = 10', "after: ID", 'currency: String = "EUR"', "ratio: Float = 1.0"],
                          rng.randint(1, 2))
        t.fields[name].args = "(" + ", ".join(args) + ")"


def compatible_types(world) -> None:
    """A @shareable field that is non-null or a list in one subgraph only (compatible: merged to the supertype)."""
    rng = world.rng
    if rng.random() > 0.25:
        return
    for type_name, field_name in world.shared:
        copies = [sg.types[type_name].fields[field_name] for sg in world.defining(type_name)
                  if field_name in sg.types[type_name].fields]
        if len(copies) > 1 and not copies[0].type.endswith("!"):
            copies[0].type += "!"
            return


def renamed_imports(world) -> None:
    """Federation directives imported under another name, or used by their namespaced name."""
    rng = world.rng
    if rng.random() > 0.2:
        return
    choice = rng.choice([{"tag": "mytag"}, {"inaccessible": "hidden"}, {"shareable": "share"},
                         {"tag": "federation__tag"}, {"external": "ext", "requires": "needs"}])
    for sg in world.subgraphs:
        if not sg.fed1 and rng.random() < 0.7:
            sg.renames.update(choice)


def renamed_roots(world) -> None:
    """A subgraph whose query root is not called Query (and sometimes with a mutation)."""
    rng = world.rng
    candidates = [sg for sg in world.subgraphs if not sg.fed1 and "Query" in sg.types]
    if rng.random() > 0.15 or not candidates:
        return
    sg = rng.choice(candidates)
    query = sg.types.pop("Query")
    query.name = "RootQuery"
    sg.types["RootQuery"] = query
    sg.schema_roots["query"] = "RootQuery"
    if rng.random() < 0.5:
        from random_subgraphs import TypeDef

        sg.types["Mutation"] = TypeDef("type", "Mutation", fields={"touch" + sg.name.capitalize(): _field("Boolean")})
        sg.schema_roots["mutation"] = "Mutation"


def several_keys(world) -> None:
    """An entity with a second key (a composite one) in the subgraph that owns it."""
    rng = world.rng
    entities = [(s, t) for s, t in _entities(world) if "code" not in t.fields]
    if rng.random() > 0.2 or not entities:
        return
    sg, t = rng.choice(entities)
    t.fields["code"] = _field("String!")
    t.directives.append(rng.choice(['@key(fields: "code")', '@key(fields: "id code")']))


def cost_directives(world) -> None:
    """@cost on fields and @listSize on list fields (federation 2.9)."""
    rng = world.rng
    if rng.random() > 0.15:
        return
    for sg in world.subgraphs:
        if sg.fed1 or "Query" not in sg.types:
            continue
        sg.minor = 9
        for f in sg.query().fields.values():
            if f.type.startswith("[") and rng.random() < 0.5:
                f.directives.append("@listSize(assumedSize: 20)")
            elif rng.random() < 0.3:
                f.directives.append(f"@cost(weight: {rng.choice([2, 5])})")


EXTRAS = [
    federation1_subgraph,
    union_of_entities,
    access_control,
    descriptions_and_deprecations,
    shared_field_arguments,
    compatible_types,
    renamed_imports,
    renamed_roots,
    several_keys,
    cost_directives,
]
