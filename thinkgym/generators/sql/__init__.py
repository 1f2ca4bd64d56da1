"""Procedural text-to-SQL tasks: seeded databases, template questions with gold queries, and
execution-labelled candidate queries for discrimination.

Source: Anjum, "When Reasoning Beats Scale: A 1.5B Reasoning Model Outranks 13B LLMs as
Discriminator", arXiv 2505.03786 (a generator proposes SQL candidates, a discriminator judges them).

Modules: :mod:`.schema` (domains and rows), :mod:`.query` (the query tree, corruptions, rewrites),
:mod:`.questions` (question templates per kind), :mod:`.tasks` (levels, checks, problems).
"""

from thinkgym.generators.sql.questions import KINDS
from thinkgym.generators.sql.schema import DOMAINS
from thinkgym.generators.sql.tasks import (
    DISCRIMINATE_TEMPLATE,
    LEVELS,
    TEXT2SQL_TEMPLATE,
    Instance,
    build_instance,
    candidates,
    check_params,
    discriminate_prompt,
    generate,
    generate_discriminate,
)

__all__ = [
    "DISCRIMINATE_TEMPLATE",
    "DOMAINS",
    "KINDS",
    "LEVELS",
    "TEXT2SQL_TEMPLATE",
    "Instance",
    "build_instance",
    "candidates",
    "check_params",
    "discriminate_prompt",
    "generate",
    "generate_discriminate",
]
