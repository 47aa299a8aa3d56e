"""Contains all the data models used in inputs/outputs"""

from .account_list import AccountList
from .account_view import AccountView
from .api_key_list import ApiKeyList
from .api_key_view import ApiKeyView
from .attempt_view import AttemptView
from .available_event_type import AvailableEventType
from .available_event_types import AvailableEventTypes
from .batch_accepted import BatchAccepted
from .create_account import CreateAccount
from .create_api_key import CreateApiKey
from .create_listener import CreateListener
from .create_webhook import CreateWebhook
from .create_webhook_headers_type_0 import CreateWebhookHeadersType0
from .delivery_detail import DeliveryDetail
from .delivery_list import DeliveryList
from .delivery_view import DeliveryView
from .envelope import Envelope
from .envelope_resource import EnvelopeResource
from .error_body import ErrorBody
from .error_body_links_item import ErrorBodyLinksItem
from .error_detail import ErrorDetail
from .error_view import ErrorView
from .event_list import EventList
from .event_type_list import EventTypeList
from .event_type_ref import EventTypeRef
from .event_type_view import EventTypeView
from .event_type_view_sample_type_0 import EventTypeViewSampleType0
from .event_type_view_schema_type_0 import EventTypeViewSchemaType0
from .healthz_response_200 import HealthzResponse200
from .key_scope import KeyScope
from .link import Link
from .listener_view import ListenerView
from .mode import Mode
from .o_auth_2_body import OAuth2Body
from .o_auth_2_view import OAuth2View
from .patch_operation import PatchOperation
from .previous_secret import PreviousSecret
from .publish_batch import PublishBatch
from .publish_event import PublishEvent
from .publish_event_resource import PublishEventResource
from .put_event_type import PutEventType
from .put_event_type_sample_type_0 import PutEventTypeSampleType0
from .put_event_type_schema_type_0 import PutEventTypeSchemaType0
from .readyz_response_200 import ReadyzResponse200
from .recover import Recover
from .recovered import Recovered
from .request_log_list import RequestLogList
from .request_log_view import RequestLogView
from .request_ref import RequestRef
from .request_view import RequestView
from .request_view_headers import RequestViewHeaders
from .resend import Resend
from .response_view import ResponseView
from .response_view_headers import ResponseViewHeaders
from .roll_api_key import RollApiKey
from .roll_secret import RollSecret
from .secret_view import SecretView
from .simulate import Simulate
from .streamed_delivery import StreamedDelivery
from .streamed_delivery_headers import StreamedDeliveryHeaders
from .subscribed_type import SubscribedType
from .subscription_list import SubscriptionList
from .terminate_request import TerminateRequest
from .tls_body import TlsBody
from .tls_view import TlsView
from .token_request import TokenRequest
from .token_response import TokenResponse
from .verification_key import VerificationKey
from .verify_request import VerifyRequest
from .verify_request_headers_type_0 import VerifyRequestHeadersType0
from .verify_request_webhook_event_type_0 import VerifyRequestWebhookEventType0
from .verify_response import VerifyResponse
from .webhook_list import WebhookList
from .webhook_view import WebhookView
from .webhook_view_headers import WebhookViewHeaders

__all__ = (
    "AccountList",
    "AccountView",
    "ApiKeyList",
    "ApiKeyView",
    "AttemptView",
    "AvailableEventType",
    "AvailableEventTypes",
    "BatchAccepted",
    "CreateAccount",
    "CreateApiKey",
    "CreateListener",
    "CreateWebhook",
    "CreateWebhookHeadersType0",
    "DeliveryDetail",
    "DeliveryList",
    "DeliveryView",
    "Envelope",
    "EnvelopeResource",
    "ErrorBody",
    "ErrorBodyLinksItem",
    "ErrorDetail",
    "ErrorView",
    "EventList",
    "EventTypeList",
    "EventTypeRef",
    "EventTypeView",
    "EventTypeViewSampleType0",
    "EventTypeViewSchemaType0",
    "HealthzResponse200",
    "KeyScope",
    "Link",
    "ListenerView",
    "Mode",
    "OAuth2Body",
    "OAuth2View",
    "PatchOperation",
    "PreviousSecret",
    "PublishBatch",
    "PublishEvent",
    "PublishEventResource",
    "PutEventType",
    "PutEventTypeSampleType0",
    "PutEventTypeSchemaType0",
    "ReadyzResponse200",
    "Recover",
    "Recovered",
    "RequestLogList",
    "RequestLogView",
    "RequestRef",
    "RequestView",
    "RequestViewHeaders",
    "Resend",
    "ResponseView",
    "ResponseViewHeaders",
    "RollApiKey",
    "RollSecret",
    "SecretView",
    "Simulate",
    "StreamedDelivery",
    "StreamedDeliveryHeaders",
    "SubscribedType",
    "SubscriptionList",
    "TerminateRequest",
    "TlsBody",
    "TlsView",
    "TokenRequest",
    "TokenResponse",
    "VerificationKey",
    "VerifyRequest",
    "VerifyRequestHeadersType0",
    "VerifyRequestWebhookEventType0",
    "VerifyResponse",
    "WebhookList",
    "WebhookView",
    "WebhookViewHeaders",
)
