"""Math with verifiable rewards: procedural problems, datasets, and MR-RLVR's process tasks.

* :class:`MathRLVREnv` (``Math-RLVR-v0``): procedurally generated problems, one family or a
  weighted mixture, levels 1..5 (:mod:`thinkgym.envs.math.procedural`).
* :class:`MathDatasetEnv` (``Math-Dataset-v0``): problems from a JSONL file or a saved Hugging Face
  dataset, with 1-shot RLVR's ``repeat_one`` (Wang et al., arXiv 2504.20571;
  :mod:`thinkgym.envs.math.dataset`).
* :class:`MaskedStepEnv` (``Math-MaskedStep-v0``) and :class:`StepOrderEnv`
  (``Math-StepOrder-v0``): MR-RLVR's masked-then-fill and step-reordering tasks on the generators'
  worked solutions (Wang, Gao and Ke, arXiv 2511.17473; :mod:`thinkgym.envs.math.process`).

All read the final answer as the last ``\\boxed{}`` after the last ``</think>`` and share the
``require_think`` format gate (:mod:`thinkgym.envs.math.common`). See docs/math.md.
"""

from thinkgym.envs.math.common import MathEnv
from thinkgym.envs.math.dataset import SAMPLE_PATH, MathDatasetEnv
from thinkgym.envs.math.procedural import MathRLVREnv
from thinkgym.envs.math.process import MaskedStepEnv, StepOrderEnv

__all__ = ["SAMPLE_PATH", "MaskedStepEnv", "MathDatasetEnv", "MathEnv", "MathRLVREnv", "StepOrderEnv"]
