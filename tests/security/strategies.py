"""Hypothesis strategies for hostile input: any JSON, huge strings, unicode, control characters, wrong types."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

CONTROL = st.characters(categories=["Cc", "Cs", "Zl", "Zp", "Cf"])
"""Control characters, lone surrogates, line/paragraph separators and format marks (bidi overrides, ZWJ)."""

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=CONTROL, min_size=1, max_size=10),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(1000, 70_000)),  # huge
    st.sampled_from(
        [
            "",
            " ",
            "\u00a0",
            "\t\n",
            "null",
            "None",
            "0",
            "-1",
            "1e999",
            "NaN",
            "<at>x</at>",
            "'; DROP TABLE packages; --",
            "{{7*7}}",
            "${jndi:ldap://x}",
            "../../etc/passwd",
            "\u202e9000",
            "٩٠٠٠",
            "９０００",
            "A１２３４",
            "a1234\u200b",
            "9000\x00",
            "2026-02-30",
            "9999-12-31",
            "0000-01-01",
        ]
    ),
)
"""Text a person or a program could send, from empty to 200,000 characters."""

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),
    hostile_text,
)

json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(hostile_text, children, max_size=5),
    max_leaves=25,
)
"""Any JSON value (and the floats JSON cannot carry, NaN and infinities), nested junk included."""


def hostile_form(fields: tuple[str, ...], good: dict[str, Any] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A form's answers: the good ones with none, some or all fields missing or replaced by any hostile
    value (fields without a good value are always hostile), plus unknown extra fields."""
    good = good or {}

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        values = dict(good)
        changed = draw(st.sets(st.sampled_from(fields), max_size=len(fields))) if fields else set()
        for name in fields:
            if name in changed or name not in good:
                if draw(st.booleans()):
                    values.pop(name, None)
                else:
                    values[name] = draw(st.one_of(hostile_text, json_values))
        extra = draw(st.dictionaries(hostile_text, json_values, max_size=3))
        return extra | values

    return build()
