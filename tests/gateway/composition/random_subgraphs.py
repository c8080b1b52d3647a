"""Random federation 2 subgraph sets, for comparing our composer with Apollo's on inputs nobody wrote by hand.

`random_case(rng)` draws a small world (entities with keys, value types, an interface with an @interfaceObject, a
shared enum and input type), spreads its fields over two to four subgraphs with @shareable, @external + @requires,
@provides, @override, @inaccessible and @tag, and prints each subgraph's SDL. About a third of the cases then get one
deliberate mistake (a field shared without @shareable, mismatched types or enum values, a bad key, ...), so that
both the supergraph printing and the error reporting are exercised. Everything comes from the `random.Random`
given: one seed, one case list.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from random_subgraph_extras import EXTRAS
from random_subgraph_federation_extras import FEDERATION_EXTRAS
from random_subgraph_mistakes import MISTAKES
from random_subgraph_schema_extras import SCHEMA_EXTRAS
from random_subgraph_value_extras import VALUE_EXTRAS

SUBGRAPH_NAMES = ["accounts", "offers", "points", "stores"]
ENTITY_NAMES = ["Member", "Offer", "Store"]
FIELD_NAMES = ["name", "score", "level", "note", "rank", "price", "label"]
SCALARS = ["Int", "String", "Float", "Boolean", "ID"]
ENUM_VALUES = ["GOLD", "SILVER", "BRONZE", "PLATINUM"]
INPUT_FIELDS = {"minScore": "Int", "name": "String", "after": "ID", "ratio": "Float"}
DEFAULTS = {"Int": ["0", "10"], "String": ['"x"'], "Float": ["1.0", "0.5", "2e3"], "ID": ['"1"', '"a1"', "7"]}


@dataclass
class FieldDef:
    type: str
    directives: list[str] = field(default_factory=list)
    args: str = ""
    # Who provides the field's value: the subgraph itself, or it is @external there.
    external: bool = False
    description: str | None = None


@dataclass
class TypeDef:
    kind: str  # "type", "interface", "input" or "enum"
    name: str
    directives: list[str] = field(default_factory=list)
    fields: dict[str, FieldDef] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)
    implements: list[str] = field(default_factory=list)
    description: str | None = None
    extend: bool = False  # printed `extend type` (federation 1 style)
    members: list[str] = field(default_factory=list)  # union members


@dataclass
class SubgraphDef:
    name: str
    minor: int  # federation 2.<minor>; 0 with fed1 for a federation 1 subgraph (no @link)
    types: dict[str, TypeDef] = field(default_factory=dict)
    fed1: bool = False
    # Federation directives imported under another name ("tag" -> "label"), or namespaced ("federation__tag").
    renames: dict[str, str] = field(default_factory=dict)
    schema_roots: dict[str, str] = field(default_factory=dict)  # a `schema { ... }` block, when roots are renamed
    directive_defs: list[str] = field(default_factory=list)  # custom directive definitions, printed first
    extra_links: list[str] = field(default_factory=list)  # more applications on `extend schema`

    def type(self, kind: str, name: str) -> TypeDef:
        return self.types.setdefault(name, TypeDef(kind, name))

    def query(self) -> TypeDef:
        return self.type("type", self.schema_roots.get("query", "Query"))


@dataclass
class World:
    rng: random.Random
    subgraphs: list[SubgraphDef]
    # entity -> field -> owning subgraph (the one that resolves it)
    owners: dict[str, dict[str, SubgraphDef]] = field(default_factory=dict)
    shared: list[tuple[str, str]] = field(default_factory=list)  # (type, field) defined @shareable in several
    mistake: str | None = None

    def defining(self, type_name: str) -> list[SubgraphDef]:
        return [s for s in self.subgraphs if type_name in s.types]


def random_case(rng: random.Random, mistake_rate: float = 0.35) -> tuple[dict[str, str], str | None]:
    """One subgraph set: {subgraph name: SDL}, and the name of the mistake put in (None for a clean set)."""
    count = rng.choice([2, 2, 3, 3, 4])
    world = World(rng, [SubgraphDef(n, rng.choice([3, 5, 6, 8, 9])) for n in SUBGRAPH_NAMES[:count]])
    for entity in rng.sample(ENTITY_NAMES, rng.randint(1, 3)):
        _add_entity(world, entity)
    if rng.random() < 0.3:
        _add_value_type(world)
    if rng.random() < 0.25:
        _add_interface_object(world)
    if rng.random() < 0.5:
        _add_enum(world)
    if rng.random() < 0.4:
        _add_input(world)
    for extra in EXTRAS + FEDERATION_EXTRAS + SCHEMA_EXTRAS + VALUE_EXTRAS:
        extra(world)
    _sprinkle_tags_and_inaccessible(world)
    if rng.random() < mistake_rate:
        for name in rng.sample(sorted(MISTAKES), len(MISTAKES)):
            if MISTAKES[name](world):
                world.mistake = name
                break
    return {s.name: print_subgraph(s) for s in world.subgraphs}, world.mistake


# -- world building ------------------------------------------------------------------------------------------------


def _entity_in(sg: SubgraphDef, entity: str, key: str = "id") -> TypeDef:
    t = sg.types.get(entity)
    if t is None:
        t = sg.type("type", entity)
        t.directives.append(f'@key(fields: "{key}")')
        t.fields["id"] = FieldDef("ID!")
    return t


def _add_entity(world: World, entity: str) -> None:
    rng = world.rng
    home = rng.choice(world.subgraphs)
    _entity_in(home, entity)
    args = f"(id: ID! = {rng.choice(DEFAULTS['ID'])})" if rng.random() < 0.2 else "(id: ID!)"
    home.query().fields[entity[0].lower() + entity[1:]] = FieldDef(entity, args=args)
    owners = world.owners.setdefault(entity, {})
    for name in rng.sample(FIELD_NAMES, rng.randint(1, 4)):
        owner = rng.choice(world.subgraphs)
        owners[name] = owner
        _entity_in(owner, entity).fields[name] = FieldDef(rng.choice(SCALARS))
    for name, owner in list(owners.items()):
        others = [s for s in world.subgraphs if s is not owner]
        roll = rng.random()
        if roll < 0.2:  # the same field resolved by two subgraphs
            other = rng.choice(others)
            original = owner.types[entity].fields[name]
            original.directives.append("@shareable")
            _entity_in(other, entity).fields.setdefault(name, FieldDef(original.type, ["@shareable"]))
            world.shared.append((entity, name))
        elif roll < 0.4:  # another subgraph computes a field from this one
            other = rng.choice(others)
            t = _entity_in(other, entity)
            if name not in t.fields:
                t.fields[name] = FieldDef(owner.types[entity].fields[name].type, ["@external"], external=True)
                t.fields[name + "Bonus"] = FieldDef("Int", [f'@requires(fields: "{name}")'])
        elif roll < 0.5:  # another subgraph takes the field over
            other = rng.choice(others)
            t = _entity_in(other, entity)
            if name not in t.fields:
                label = ', label: "percent(50)"' if other.minor >= 7 and rng.random() < 0.3 else ""
                t.fields[name] = FieldDef(owner.types[entity].fields[name].type, [f'@override(from: "{owner.name}"{label})'])
        elif roll < 0.6:  # another subgraph returns the entity with the field already fetched
            other = rng.choice(others)
            t = _entity_in(other, entity)
            if name not in t.fields:
                original = owner.types[entity].fields[name]
                original.directives.append("@shareable")  # provided elsewhere: resolved by two subgraphs
                t.fields[name] = FieldDef(original.type, ["@external"], external=True)
                other.query().fields["top" + entity + other.name.capitalize()] = FieldDef(entity, [f'@provides(fields: "{name}")'])
    if rng.random() < 0.25:  # a subgraph only refers to the entity
        other = rng.choice(world.subgraphs)
        if entity not in other.types:
            other.types[entity] = TypeDef(
                "type", entity, ['@key(fields: "id", resolvable: false)'], {"id": FieldDef("ID!")}
            )
            other.query().fields["some" + entity + other.name.capitalize()] = FieldDef(f"[{entity}]")


def _add_value_type(world: World) -> None:
    rng = world.rng
    for sg in rng.sample(world.subgraphs, 2):
        t = sg.type("type", "Money")
        t.directives.append("@shareable")
        t.fields = {"amount": FieldDef("Float"), "currency": FieldDef("String")}
        sg.query().fields["balance" + sg.name.capitalize()] = FieldDef("Money")
    world.shared.append(("Money", "amount"))


def _add_interface_object(world: World) -> None:
    rng = world.rng
    home, other = rng.sample(world.subgraphs, 2)
    itf = home.type("interface", "Reward")
    itf.directives.append('@key(fields: "id")')
    itf.fields = {"id": FieldDef("ID!"), "cost": FieldDef("Int")}
    for impl in rng.sample(["Voucher", "Coupon"], rng.randint(1, 2)):
        t = home.type("type", impl)
        t.implements = ["Reward"]
        t.directives.append('@key(fields: "id")')
        t.fields = {"id": FieldDef("ID!"), "cost": FieldDef("Int"), impl.lower() + "Code": FieldDef("String")}
    home.query().fields["rewards"] = FieldDef("[Reward]")
    obj = other.type("type", "Reward")
    obj.directives += ['@key(fields: "id")', "@interfaceObject"]
    obj.fields = {"id": FieldDef("ID!"), "stock": FieldDef("Int")}
    if rng.random() < 0.5:
        other.query().fields["featuredReward"] = FieldDef("Reward")


def _add_enum(world: World) -> None:
    rng = world.rng
    for sg in rng.sample(world.subgraphs, rng.randint(1, len(world.subgraphs))):
        values = ENUM_VALUES[:3] if rng.random() < 0.85 else rng.sample(ENUM_VALUES, rng.randint(2, 4))
        sg.type("enum", "Tier").values = list(values)
        usage = rng.choice(["output", "input", "both"])
        if usage in ("output", "both"):
            sg.query().fields["tierOf" + sg.name.capitalize()] = FieldDef("Tier")
        if usage in ("input", "both"):
            sg.query().fields["countIn" + sg.name.capitalize()] = FieldDef("Int", args="(tier: Tier)")


def _add_input(world: World) -> None:
    rng = world.rng
    for sg in rng.sample(world.subgraphs, rng.randint(1, len(world.subgraphs))):
        t = sg.type("input", "Filter")
        # "name" always: input types merge by intersection, and an empty one is an error (left to the mistakes).
        for name in ["name", *rng.sample(["minScore", "after", "ratio"], rng.randint(0, 3))]:
            kind = INPUT_FIELDS[name]
            defaults = DEFAULTS.get(kind, [])
            # Mostly the same default everywhere; sometimes another one, which subgraphs must agree on.
            default = f" = {defaults[0] if rng.random() < 0.8 else rng.choice(defaults)}" if defaults and rng.random() < 0.3 else ""
            t.fields[name] = FieldDef(kind + default)
        sg.query().fields["search" + sg.name.capitalize()] = FieldDef("[String]", args="(filter: Filter)")


def _sprinkle_tags_and_inaccessible(world: World) -> None:
    rng = world.rng
    for sg in world.subgraphs:
        if sg.fed1:
            continue
        for t in sg.types.values():
            if t.kind == "type" and t.name != "Query" and rng.random() < 0.1:
                t.directives.append(f'@tag(name: "{rng.choice(["public", "partner"])}")')
            if t.kind == "type" and t.name != "Query" and rng.random() < 0.1:
                t.description = f"A {t.name.lower()} as {sg.name} sees it."
            for name, f in t.fields.items():
                if name == "id" or f.external:
                    continue
                if rng.random() < 0.08:
                    f.directives.append(f'@tag(name: "{rng.choice(["public", "partner"])}")')
                if rng.random() < 0.06:
                    f.directives.append("@inaccessible")


# -- printing ------------------------------------------------------------------------------------------------------


FEDERATION_DIRECTIVES = (
    "shareable", "external", "requires", "provides", "override", "inaccessible", "tag", "interfaceObject",
    "authenticated", "requiresScopes", "policy", "cost", "listSize", "context", "fromContext",
)


def print_subgraph(sg: SubgraphDef) -> str:
    blocks = list(sg.directive_defs)
    blocks += [print_type(t) for t in sg.types.values() if t.kind in ("enum", "input", "union", "scalar") or t.fields]
    if sg.schema_roots:
        blocks.insert(0, "schema {\n" + "".join(f"  {k}: {v}\n" for k, v in sg.schema_roots.items()) + "}")
    body = "\n\n".join(blocks)
    if sg.fed1:
        return body + "\n"
    imports = ['"@key"']
    for d in FEDERATION_DIRECTIVES:
        if f"@{d}" not in body:
            continue
        local = sg.renames.get(d, d)
        if local != d:
            body = body.replace(f"@{d}(", f"@{local}(").replace(f"@{d}\n", f"@{local}\n").replace(f"@{d} ", f"@{local} ")
        if local == f"federation__{d}":
            continue
        imports.append(f'"@{d}"' if local == d else f'{{name: "@{d}", as: "@{local}"}}')
    if sg.extra_links:
        imports.append('"@composeDirective"')
    link = f'extend schema @link(url: "https://specs.apollo.dev/federation/v2.{sg.minor}", import: [{", ".join(imports)}])'
    link = " ".join([link, *dict.fromkeys(sg.extra_links)])
    return link + "\n\n" + body + "\n"


def _description(text: str, indent: str) -> str:
    # A block string where it can be one, else a plain string with JSON's escapes (valid GraphQL ones).
    if '"' in text or "\\" in text or not text:
        return indent + json.dumps(text, ensure_ascii=False) + "\n"
    return f'{indent}"""{text}"""\n'


def print_type(t: TypeDef) -> str:
    head = _description(t.description, "") if t.description is not None and not t.extend else ""  # (none on extensions)
    head += ("extend " if t.extend else "") + f"{t.kind} {t.name}"
    if t.implements:
        head += " implements " + " & ".join(t.implements)
    if t.directives:
        head += " " + " ".join(t.directives)
    if t.kind == "scalar":
        return head
    if t.kind == "union":
        return head + " = " + " | ".join(t.members)
    if t.kind == "enum":
        return head + " {\n" + "".join(f"  {v}\n" for v in t.values) + "}"
    lines = [
        (_description(f.description, "  ") if f.description is not None else "")
        + f"  {name}{f.args}: {' '.join([f.type, *f.directives])}"
        for name, f in t.fields.items()
    ]
    return head + " {\n" + "\n".join(lines) + "\n}"
