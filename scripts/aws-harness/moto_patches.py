"""In-process fixes for moto 5.2.1 bugs that a deployed-stack emulation hits
(moto_stack.py); nothing in site-packages is edited.

- Lambda GETs under auth (GetFunctionConfiguration, GetFunction, ...) fail
  with SignatureDoesNotMatch: with an empty body moto hashes its parsed
  request data (the headers) as the payload.
- StartExecution deep-copies the state machine with its earlier executions
  (threads, locks): `cannot pickle '_thread.RLock'` from the second on.
- The executing backend names an unnamed execution "None", so the second
  unnamed one is ExecutionAlreadyExists; AWS generates a UUID.
"""

import copy
import uuid


def patch_empty_body_signature():
    from moto.iam.access_control import IAMRequestBase
    original = IAMRequestBase._create_aws_request

    def create_aws_request(self):
        request = original(self)
        if not self._body and str(self._method).upper() in ("GET", "HEAD", "DELETE"):
            request.data = b""
        return request

    IAMRequestBase._create_aws_request = create_aws_request


def patch_state_machine_deepcopy():
    from moto.stepfunctions.models import StateMachineInstance

    def deepcopy_without_executions(self, memo):
        clone = self.__class__.__new__(self.__class__)
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            setattr(clone, key, [] if key == "executions" else copy.deepcopy(value, memo))
        return clone

    StateMachineInstance.__deepcopy__ = deepcopy_without_executions


def patch_execution_names():
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    original = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, *rest, **kwargs):
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *rest, **kwargs)

    StepFunctionsParserBackend.start_execution = start_execution


def apply_all():
    patch_empty_body_signature()
    patch_state_machine_deepcopy()
    patch_execution_names()
