"""Thin adapters that put thinkgym envs inside other RL libraries; one module per library.

- :mod:`thinkgym.integrations.trl`: ``trl_reward_func`` and ``tool_environment_factory`` for TRL's
  ``GRPOTrainer`` (extra ``dev``, which brings ``trl``);
- :mod:`thinkgym.integrations.verl`: ``compute_score`` for verl's reward managers, and
  :mod:`thinkgym.integrations.verl_agent_loop`: whole episodes (CodeInterpreter) as a verl agent
  loop (extra ``verl``);
- :mod:`thinkgym.integrations.openenv`: any thinkgym env served over OpenEnv's protocol
  (``thinkgym serve``), and a client (extra ``openenv``);
- :mod:`thinkgym.integrations.verifiers`: thinkgym envs as Prime Intellect ``verifiers`` tasksets
  (extra ``verifiers``, 0.4) and as a classic ``SingleTurnEnv`` (extra ``verifiers-classic``, 0.3),
  and :mod:`thinkgym.integrations.verifiers_code`: CodeInterpreter episodes as a 0.4 taskset whose
  ``run_python`` tool steps the env in thinkgym's sandbox (extra ``verifiers``);
- :mod:`thinkgym.integrations.skyrl`: thinkgym envs as SkyRL-gym text envs (extra ``skyrl-gym``).

Importing this package imports none of those libraries; each module imports its library only when
the module itself is imported. The env, its verifier and its sandbox stay thinkgym's: an adapter
only translates calls. docs/integrations.md lists what was tested, and at which version.
"""
