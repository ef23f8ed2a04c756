"""The pure domain of ocrebot: dose schedule rules, the reminder plan, and the clock port.

Imports only the standard library and itself; no I/O except `care.plan.load_plan`, and no clock reads.
"""
