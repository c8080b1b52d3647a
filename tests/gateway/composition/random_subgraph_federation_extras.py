"""Rarer federation shapes for the random subgraph sets (see random_subgraphs): @context/@fromContext, @external on a
whole type, @extends in federation 1, @provides into a value type, shared mutations, and shared fields whose
argument defaults disagree."""

from __future__ import annotations


def _field(type_: str, *directives: str, args: str = ""):
    from random_subgraphs import FieldDef

    return FieldDef(type_, list(directives), args, external="@external" in directives)


def _fed2(world) -> list:
    return [sg for sg in world.subgraphs if not sg.fed1]


def context_fields(world) -> None:
    """An entity sets a context; a field of a type below it reads a value from it (federation 2.8)."""
    from random_subgraphs import TypeDef

    rng = world.rng
    candidates = [(sg, t) for sg in _fed2(world) for t in sg.types.values() if t.kind == "type" and t.name in world.owners]
    if rng.random() > 0.12 or not candidates:
        return
    sg, t = rng.choice(candidates)
    sg.minor = max(sg.minor, 8)
    t.directives.append('@context(name: "holder")')
    if "label" not in t.fields:
        t.fields["label"] = _field("String")
    t.fields["perks"] = _field("[Perk]")
    selection = rng.choice(["{ label }", "{ label }", "{ id }", "{ missing }"])
    others = [o for s2, o in candidates if s2 is sg and o is not t]
    if others and rng.random() < 0.4:  # two types set the context: one inline fragment per type
        other = rng.choice(others)
        other.directives.append('@context(name: "holder")')
        other.fields.setdefault("label", _field(rng.choice(["String", "String!", "Int"])))
        other.fields.setdefault("perks", _field("[Perk]"))
        conditions = [t.name, other.name] if rng.random() < 0.8 else [t.name, rng.choice(["Query", t.name])]
        selection = " ".join(f"... on {c} {{ label }}" for c in conditions)
    perk = TypeDef(
        "type",
        "Perk",
        fields={"title": _field("String", args=f'(owner: String @fromContext(field: "$holder {selection}"))')},
    )
    if rng.random() < 0.8:  # the router passes the context value through an entity call: it needs a key
        perk.directives.append('@key(fields: "id")')
        perk.fields = {"id": _field("ID!"), **perk.fields}
    sg.types["Perk"] = perk


def external_type(world) -> None:
    """@external on a whole type in a subgraph that only provides through it."""
    rng = world.rng
    for sg in _fed2(world):
        money = sg.types.get("Money")
        if money is not None and rng.random() < 0.15:
            money.directives = [d for d in money.directives if d != "@shareable"] + ["@external"]
            sg.query().fields["walletOf" + sg.name.capitalize()] = _field("Money", '@provides(fields: "amount")')
            return


def federation1_extends(world) -> None:
    """The federation 1 subgraph writes its entity with @extends instead of `extend type`, and adds a union."""
    from random_subgraphs import TypeDef

    rng = world.rng
    legacy = next((sg for sg in world.subgraphs if sg.fed1), None)
    if legacy is None or rng.random() > 0.5:
        return
    for t in legacy.types.values():
        if t.extend:
            t.extend = False
            t.directives.insert(0, "@extends")
    legacy.types["LegacyHit"] = TypeDef("union", "LegacyHit", members=[n for n in legacy.types if n in world.owners])
    if legacy.types["LegacyHit"].members:
        legacy.query().fields["legacyFind"] = _field("[LegacyHit]")
    else:
        del legacy.types["LegacyHit"]


def shared_mutation(world) -> None:
    """A mutation field two subgraphs both resolve (needs @shareable in both)."""
    from random_subgraphs import TypeDef

    rng = world.rng
    subgraphs = _fed2(world)
    if rng.random() > 0.12 or len(subgraphs) < 2:
        return
    for sg in rng.sample(subgraphs, 2):
        mutation = sg.types.setdefault("Mutation", TypeDef("type", "Mutation"))
        mutation.fields["ping"] = _field("Boolean", *(["@shareable"] if rng.random() < 0.85 else []))


def argument_default_mismatch(world) -> None:
    """A shared field whose argument has different defaults in two subgraphs (FIELD_ARGUMENT_DEFAULT_MISMATCH)."""
    rng = world.rng
    if rng.random() > 0.08:
        return
    for type_name, field_name in world.shared:
        copies = [sg.types[type_name].fields.get(field_name) for sg in world.defining(type_name)]
        copies = [c for c in copies if c is not None and not c.external]
        if len(copies) > 1:
            copies[0].args = "(first: Int = 10)"
            copies[1].args = "(first: Int = 20)"
            return


def interface_object_details(world) -> None:
    """The @interfaceObject subgraph also requires an interface field, or shares one, or the interface's home adds
    an implementation in another subgraph."""
    from random_subgraphs import TypeDef

    rng = world.rng
    home = next((sg for sg in world.subgraphs if sg.types.get("Reward") and sg.types["Reward"].kind == "interface"), None)
    holder = next((sg for sg in world.subgraphs if "@interfaceObject" in getattr(sg.types.get("Reward"), "directives", [])), None)
    if home is None or holder is None or rng.random() > 0.5:
        return
    roll = rng.random()
    obj = holder.types["Reward"]
    if roll < 0.35:
        obj.fields["cost"] = _field("Int", "@external")
        obj.fields["costLabel"] = _field("String", '@requires(fields: "cost")')
    elif roll < 0.7:
        home.types["Reward"].fields["stock"] = _field("Int")
        for t in home.types.values():
            if "Reward" in t.implements:
                t.fields["stock"] = _field("Int", "@shareable")
        obj.fields["stock"].directives.append("@shareable")
    else:
        others = [sg for sg in world.subgraphs if sg is not home and sg is not holder and not sg.fed1]
        if others:
            sg = rng.choice(others)
            sg.types["Voucher"] = TypeDef("type", "Voucher", ['@key(fields: "id")'], {"id": _field("ID!"), "expiry": _field("String")})


def federation1_requires(world) -> None:
    """The federation 1 subgraph computes a field from an external one of its entity."""
    legacy = next((sg for sg in world.subgraphs if sg.fed1), None)
    if legacy is None or world.rng.random() > 0.5:
        return
    for t in legacy.types.values():
        if t.name in world.owners and world.owners[t.name]:
            name = sorted(world.owners[t.name])[0]
            owner_type = world.owners[t.name][name].types[t.name].fields[name].type
            t.fields[name] = _field(owner_type, "@external")
            t.fields["legacy" + name.capitalize()] = _field("String", f'@requires(fields: "{name}")')
            return


FEDERATION_EXTRAS = [
    context_fields,
    external_type,
    federation1_extends,
    shared_mutation,
    argument_default_mismatch,
    interface_object_details,
    federation1_requires,
]
