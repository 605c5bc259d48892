# ruff: noqa
# Examples for `semgrep --test` of rules.yml beside this file: the line after each rule-id marker
# must be flagged by that rule, the line after each ok marker must not. Never imported or run.
import asyncio
import builtins
import marshal
import os
import pickle
import ssl
import subprocess

import httpx
import requests
import torch
import yaml


def commands(user_input: str) -> None:
    # ruleid: agora.subprocess-shell-nonliteral
    subprocess.run(user_input, shell=True)
    # ruleid: agora.subprocess-shell-nonliteral
    subprocess.Popen(f"ls {user_input}", shell=True)
    # ruleid: agora.subprocess-shell-nonliteral
    subprocess.check_output(args=user_input, shell=1)
    # ok: agora.subprocess-shell-nonliteral
    subprocess.run(["ls", user_input])
    # ok: agora.subprocess-shell-nonliteral
    subprocess.run(user_input, shell=False)
    # ruleid: agora.subprocess-shell-literal
    subprocess.run("ls -l", shell=True)
    # ok: agora.subprocess-shell-literal
    subprocess.run(["ls", "-l"])
    # ruleid: agora.shell-command-nonliteral
    os.system("rm -rf " + user_input)
    # ruleid: agora.shell-command-nonliteral
    os.popen(user_input)
    # ruleid: agora.shell-command-nonliteral
    asyncio.create_subprocess_shell(user_input)
    # ok: agora.shell-command-nonliteral
    os.system("true")


def code(expression: str) -> None:
    # ruleid: agora.eval-exec
    eval(expression)
    # ruleid: agora.eval-exec
    exec(expression, {})
    # ruleid: agora.eval-exec
    builtins.exec(expression)
    # ok: agora.eval-exec
    eval("1 + 1")


def data(blob: bytes, path: str, text: str) -> None:
    # ruleid: agora.unsafe-deserialization
    pickle.loads(blob)
    # ruleid: agora.unsafe-deserialization
    marshal.loads(blob)
    # ok: agora.unsafe-deserialization
    pickle.dumps(blob)
    # ruleid: agora.torch-load-unsafe
    torch.load(path)
    # ok: agora.torch-load-unsafe
    torch.load(path, weights_only=True)
    # ruleid: agora.yaml-unsafe-load
    yaml.load(text)
    # ruleid: agora.yaml-unsafe-load
    yaml.load(text, Loader=yaml.Loader)
    # ruleid: agora.yaml-unsafe-load
    yaml.unsafe_load(text)
    # ok: agora.yaml-unsafe-load
    yaml.load(text, Loader=yaml.SafeLoader)
    # ok: agora.yaml-unsafe-load
    yaml.load(text, yaml.CSafeLoader)
    # ok: agora.yaml-unsafe-load
    yaml.safe_load(text)


def tls(url: str) -> None:
    # ruleid: agora.tls-verify-disabled
    requests.get(url, verify=False)
    # ruleid: agora.tls-verify-disabled
    httpx.AsyncClient(verify=False)
    client = httpx.Client()
    # ruleid: agora.tls-verify-disabled
    client.post(url, verify=False)
    # ruleid: agora.tls-verify-disabled
    ssl._create_unverified_context()
    context = ssl.create_default_context()
    # ruleid: agora.tls-verify-disabled
    context.verify_mode = ssl.CERT_NONE
    session = requests.Session()
    # ruleid: agora.tls-verify-disabled
    session.verify = False
    # ok: agora.tls-verify-disabled
    requests.get(url, timeout=10)
    # ok: agora.tls-verify-disabled
    httpx.Client(verify=context)
