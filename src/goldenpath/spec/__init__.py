"""The spec format: the frozen model, YAML loading with line marks, parameters, tolerant
output matching, where a guide's page lives, and the JSON Schema generated from the model.
"""
