"""Every ``gymnasium.register`` call of thinkgym, and the catalogue ``thinkgym list`` prints.

``import thinkgym`` runs :func:`register_envs`; ``gymnasium.make("thinkgym:Saturn-SAT-v0")``
imports ``thinkgym`` first, so it works without an explicit import.
"""

from __future__ import annotations

import gymnasium

__all__ = ["ENVS", "register_envs"]

# id -> (entry point, one-line description)
ENVS: dict[str, tuple[str, str]] = {
    "Saturn-SAT-v0": (
        "thinkgym.envs.sat:SaturnSATEnv",
        "SATURN's SAT curriculum: find a satisfying assignment of a planted (n,k,l) CNF, 18 levels",
    ),
    "Math-RLVR-v0": (
        "thinkgym.envs.math:MathRLVREnv",
        "Procedural math with exact answers: 9 families x 5 levels, one family or a weighted mixture",
    ),
    "Math-Dataset-v0": (
        "thinkgym.envs.math:MathDatasetEnv",
        "Math problems from a JSONL file or a saved HF dataset (bundled sample); repeat_one= for 1-shot RLVR",
    ),
    "Math-MaskedStep-v0": (
        "thinkgym.envs.math:MaskedStepEnv",
        "MR-RLVR masked step: box the result of the hidden step of a worked solution",
    ),
    "Math-StepOrder-v0": (
        "thinkgym.envs.math:StepOrderEnv",
        "MR-RLVR step reordering: box the original order of a worked solution's shuffled steps",
    ),
    "CodeInterpreter-Math-v0": (
        "thinkgym.envs.code_interpreter:make_math_env",
        "Math-RLVR-v0 with CoRT-style Python tool calls in a local sandbox (multi-turn, 15 calls)",
    ),
    "CodeInterpreter-SAT-v0": (
        "thinkgym.envs.code_interpreter:make_sat_env",
        "Saturn-SAT-v0 with CoRT-style Python tool calls in a local sandbox (multi-turn, 15 calls)",
    ),
    "Markovian-SAT-v0": (
        "thinkgym.envs.markovian:make_markovian_sat",
        "Delethink Markovian thinking over Saturn-SAT-v0: 8K-token chunks, 4K carryover, up to 5 chunks",
    ),
    "Markovian-Math-v0": (
        "thinkgym.envs.markovian:make_markovian_math",
        "Delethink Markovian thinking over Math-RLVR-v0: 8K-token chunks, 4K carryover, up to 5 chunks",
    ),
    "Text2SQL-v0": (
        "thinkgym.envs.sql:Text2SQLEnv",
        "Text-to-SQL over generated SQLite databases (1-4 tables), scored by execution accuracy, 8 levels",
    ),
    "Text2SQL-Discriminate-v0": (
        "thinkgym.envs.sql:Text2SQLDiscriminateEnv",
        'Judge whether a candidate SQL query answers the question (JSON {"correct": ...}), labels by execution',
    ),
    "Logic-Sudoku-v0": (
        "thinkgym.envs.logic:LogicSudokuEnv",
        "Sudoku 4x4/6x6/9x9, givens removed while the solution stays unique, 4 levels by solver effort",
    ),
    "Logic-GraphColouring-v0": (
        "thinkgym.envs.logic:LogicGraphColouringEnv",
        "k-colour a graph with a planted colouring; any proper colouring accepted, 5 levels by solver effort",
    ),
    "Logic-NQueens-v0": (
        "thinkgym.envs.logic:LogicNQueensEnv",
        "Complete n-queens around pre-placed queens; any valid completion accepted, 5 levels by solver effort",
    ),
    "Logic-Futoshiki-v0": (
        "thinkgym.envs.logic:LogicFutoshikiEnv",
        "Futoshiki (Latin square with inequalities), unique, 5 levels by solver effort",
    ),
    "Logic-Skyscrapers-v0": (
        "thinkgym.envs.logic:LogicSkyscrapersEnv",
        "Skyscrapers (Latin square with visibility clues), unique, 4 levels by solver effort",
    ),
    "Logic-KnightsKnaves-v0": (
        "thinkgym.envs.logic:LogicKnightsKnavesEnv",
        "Knights and knaves in words, unique, 5 levels by solver effort",
    ),
    "Logic-Zebra-v0": (
        "thinkgym.envs.logic:LogicZebraEnv",
        "Zebra (Einstein) puzzles in words, unique, 5 levels by solver effort",
    ),
    "Logic-Nonogram-v0": (
        "thinkgym.envs.logic:LogicNonogramEnv",
        "Nonograms with row/column run clues, unique, 5 levels by solver effort",
    ),
    "Logic-Mix-v0": (
        "thinkgym.envs.logic:LogicMixEnv",
        "The eight logic-puzzle families as a weighted mixture (mixture={family: weight}), 5 levels",
    ),
}


def register_envs() -> None:
    """Registers every env once (safe to call again)."""
    for env_id, (entry_point, _) in ENVS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point, disable_env_checker=False)
