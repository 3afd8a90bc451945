#!/usr/bin/env python3
"""Holds the module graph to docs/architecture.md, from `swift package describe`:

1. the offline modules (reading captures, records, the configuration, ClickHouse) depend
   on no module of the live path (the NFLOG socket, the pipeline, the service), not even
   through another;
2. the commands that work offline (report, classify, config) import none of them;
3. each target imports only the modules it declares (an import that works only through
   another target's dependency hides an edge of the graph).

Run from the repository root; scripts/test runs it before building. Exits 1 naming each
violation."""
import json
import pathlib
import re
import subprocess
import sys

OFFLINE = ["SamplerWire", "SamplerClassifier", "SamplerSinks", "SamplerClickHouse", "SamplerReport",
           "SamplerConfiguration", "SamplerLocation", "SamplerRules", "SamplerSystem", "SamplerRuntime"]
LIVE = ["SamplerCapture", "SamplerPipeline", "SamplerStatus", "SamplerService", "CNetfilter"]
OFFLINE_COMMANDS = ["Report", "Classify", "Config", "ClassifierOptions", "SettingOptions", "ClickHouseOptions"]
# Modules of the toolchain and the system, importable by any target.
SYSTEM = {"Foundation", "FoundationXML", "FoundationEssentials", "Glibc", "Darwin", "Dispatch", "Synchronization",
          "Testing", "XCTest", "SystemPackage", "ArgumentParser", "Benchmark"}

package = json.loads(subprocess.run(["swift", "package", "describe", "--type", "json"],
                                    check=True, capture_output=True, text=True).stdout)
targets = {t["name"]: t for t in package["targets"]}
PRODUCT_MODULES = {"SystemPackage": "SystemPackage", "ArgumentParser": "ArgumentParser"}


def direct(name):
    return targets[name].get("target_dependencies") or []


def closure(name):
    seen, todo = set(), list(direct(name))
    while todo:
        dependency = todo.pop()
        if dependency not in seen:
            seen.add(dependency)
            todo.extend(direct(dependency))
    return seen


def imports(path):
    return set(re.findall(r"^(?:@testable |@_exported )?import (?:(?:struct|class|enum|func|var|let|typealias|protocol) )?(\w+)", path.read_text(), re.MULTILINE))


problems = []
for name in OFFLINE:
    for dependency in sorted(closure(name) & set(LIVE)):
        problems.append(f"{name} is offline but depends on {dependency} (live path)")
for command in OFFLINE_COMMANDS:
    path = pathlib.Path("Sources/sampler") / f"{command}.swift"
    for module in sorted(imports(path) & set(LIVE)):
        problems.append(f"{path} works offline but imports {module} (live path)")
for name, target in targets.items():
    if name == "sampler-fuzz":
        continue
    declared = set(direct(name)) | {PRODUCT_MODULES.get(p, p) for p in (target.get("product_dependencies") or [])} | SYSTEM
    for source in target.get("sources", []):
        path = pathlib.Path(target["path"]) / source
        for module in sorted(imports(path) - declared - {name}):
            problems.append(f"{path} imports {module}, which {name} does not declare in Package.swift")

for problem in problems:
    print("check-structure: " + problem, file=sys.stderr)
sys.exit(1 if problems else 0)
