"""Deliberate mistakes for the random subgraph sets: each takes a built world (see random_subgraphs) and breaks one
rule, returning False when the world has nothing it could break that way."""

from __future__ import annotations


def _unshare(world) -> bool:
    """A field resolved by two subgraphs, one of which forgot @shareable (INVALID_FIELD_SHARING)."""
    for type_name, field_name in world.shared:
        for sg in world.defining(type_name):
            f = sg.types[type_name].fields.get(field_name)
            if f is not None and "@shareable" in f.directives:
                f.directives.remove("@shareable")
                t = sg.types[type_name]
                if "@shareable" in t.directives:
                    t.directives.remove("@shareable")
                return True
    return False


def _type_mismatch(world) -> bool:
    """A shared field with different types in two subgraphs (FIELD_TYPE_MISMATCH, or compatible ones composing)."""
    for type_name, field_name in world.shared:
        sg = world.defining(type_name)[-1]
        f = sg.types[type_name].fields.get(field_name)
        if f is not None:
            f.type = world.rng.choice(["String", "Int!", "[Int]", "Float!"])
            return True
    return False


def _external_unused(world) -> bool:
    """An @external field nothing uses (EXTERNAL_UNUSED or EXTERNAL_MISSING_ON_BASE)."""
    for sg in world.subgraphs:
        for t in sg.types.values():
            if any(d.startswith("@key") for d in t.directives) and t.kind == "type":
                t.fields["ghost"] = world.rng.choice([_field("Int", "@external"), _field("String", "@external")])
                return True
    return False


def _requires_without_external(world) -> bool:
    """A @requires on a field the subgraph resolves itself (REQUIRES_FIELDS_MISSING_EXTERNAL or sharing errors)."""
    for sg in world.subgraphs:
        for t in sg.types.values():
            for f in t.fields.values():
                if f.external and "@external" in f.directives:
                    f.directives.remove("@external")
                    f.external = False
                    return True
    return False


def _bad_key(world) -> bool:
    """A key naming a field the type does not have (KEY_INVALID_FIELDS)."""
    for sg in world.subgraphs:
        for t in sg.types.values():
            for i, d in enumerate(t.directives):
                if d.startswith("@key"):
                    t.directives[i] = d.replace('fields: "id"', 'fields: "code"')
                    return True
    return False


def _override_self(world) -> bool:
    """@override naming the subgraph it sits in (OVERRIDE_FROM_SELF_ERROR)."""
    for sg in world.subgraphs:
        for t in sg.types.values():
            for name, f in t.fields.items():
                if name != "id" and not f.external and t.name != "Query" and t.kind == "type":
                    f.directives = [d for d in f.directives if not d.startswith("@override")]
                    f.directives.append(f'@override(from: "{sg.name}")')
                    return True
    return False


def _enum_mismatch(world) -> bool:
    """A shared enum missing a value in one subgraph: fine for outputs or inputs alone, an error when used both ways."""
    defining = [sg for sg in world.subgraphs if "Tier" in sg.types]
    if len(defining) < 2:
        return False
    defining[-1].types["Tier"].values = defining[-1].types["Tier"].values[:-1] or ["GOLD"]
    defining[0].query().fields["tierIn" + defining[0].name.capitalize()] = _field("Tier", args="(tier: Tier)")
    return True


def _required_input_field(world) -> bool:
    """A non-null input field some subgraphs lack (REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH)."""
    defining = [sg for sg in world.subgraphs if "Filter" in sg.types]
    if not defining:
        return False
    defining[0].types["Filter"].fields["mandatory"] = _field("String!")
    return True


def _interface_object_without_key(world) -> bool:
    """An @interfaceObject with no @key (INTERFACE_OBJECT_USAGE_ERROR)."""
    for sg in world.subgraphs:
        t = sg.types.get("Reward")
        if t is not None and "@interfaceObject" in t.directives:
            t.directives = ["@interfaceObject"]
            return True
    return False


def _value_type_extra_field(world) -> bool:
    """A shared value type with a field only one subgraph knows (SATISFIABILITY_ERROR)."""
    defining = [sg for sg in world.subgraphs if "Money" in sg.types]
    if not defining:
        return False
    defining[0].types["Money"].fields["rate"] = _field("Float")
    return True


def _inaccessible_everywhere(world) -> bool:
    """Every field of a type hidden (ONLY_INACCESSIBLE_CHILDREN, or hiding a key field / required argument)."""
    for sg in world.subgraphs:
        for t in sg.types.values():
            if t.kind == "type" and t.name != "Query" and not any("@interfaceObject" == d for d in t.directives):
                for f in t.fields.values():
                    if not f.external and "@inaccessible" not in f.directives:
                        f.directives.append("@inaccessible")
                return True
    return False


def _key_fields_external(world) -> bool:
    """Key fields @external in a subgraph that serves the entity from its own root field (SATISFIABILITY_ERROR)."""
    for sg in world.subgraphs:
        if sg.fed1:
            continue
        for t in sg.types.values():
            key = next((d for d in t.directives if d.startswith("@key")), None)
            if t.kind == "type" and key is not None and "id" in t.fields and "@interfaceObject" not in t.directives:
                t.fields["id"].directives.append("@external")
                t.fields["id"].external = True
                if world.rng.random() < 0.7:
                    sg.query().fields["own" + t.name + sg.name.capitalize()] = _field(t.name)
                return True
    return False


def _field(type_: str, *directives: str, args: str = ""):
    from random_subgraphs import FieldDef

    return FieldDef(type_, list(directives), args, external="@external" in directives)


MISTAKES = {
    "unshare": _unshare,
    "type-mismatch": _type_mismatch,
    "external-unused": _external_unused,
    "requires-without-external": _requires_without_external,
    "bad-key": _bad_key,
    "override-self": _override_self,
    "enum-mismatch": _enum_mismatch,
    "required-input-field": _required_input_field,
    "interface-object-without-key": _interface_object_without_key,
    "value-type-extra-field": _value_type_extra_field,
    "inaccessible-everywhere": _inaccessible_everywhere,
    "key-fields-external": _key_fields_external,
}
