"""Codes put into words for customers: order statuses, delay reasons, offered alternatives.

Status words avoid accented vowels in Spanish where a natural phrase allows, so that SMS texts
stay in GSM-7 (one SMS holds 160 GSM-7 characters but only 70 UCS-2 ones).
"""

from __future__ import annotations

from collections.abc import Mapping

from carriers.status import ShipmentStatus
from portal.domain.status import OrderStatus
from portal.notify.locales import resolve_locale

S, SH = OrderStatus, ShipmentStatus

# Every status in English as pages, the console and the API show it: a badge or a step.
STATUS_LABELS: Mapping[str, str] = {
    S.PLACED: "Order placed",
    S.PROCESSING: "Processing",
    S.PACKED: "Packed",
    S.SHIPPED: "Shipped",
    S.IN_TRANSIT: "In transit",
    S.OUT_FOR_DELIVERY: "Out for delivery",
    S.AVAILABLE_FOR_PICKUP: "Ready for pickup",
    S.DELIVERED: "Delivered",
    S.RETURNED: "Returned",
    S.CANCELLED: "Cancelled",
    SH.PRE_TRANSIT: "Label created",
    SH.ATTEMPT_FAILED: "Delivery attempt failed",
    SH.EXCEPTION: "Problem in transit",
    SH.RETURNED_TO_SENDER: "Returned to sender",
    SH.UNKNOWN: "Update",
}

# The timeline's line when the order's status changes (kept with the event as written).
STATUS_MESSAGES: Mapping[OrderStatus, str] = {
    S.PLACED: "Order placed",
    S.PROCESSING: "We are preparing your order",
    S.PACKED: "Your order is packed",
    S.SHIPPED: "Your order has shipped",
    S.IN_TRANSIT: "In transit",
    S.OUT_FOR_DELIVERY: "Out for delivery",
    S.AVAILABLE_FOR_PICKUP: "Ready for pickup",
    S.DELIVERED: "Delivered",
    S.RETURNED: "Returned to sender",
    S.CANCELLED: "Order cancelled",
}

# Completes "Your order A1001 is ..." (en) and "Estado de su pedido A1001: ..." (es).
STATUS_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "placed": "confirmed",
        "processing": "being prepared",
        "packed": "packed and ready to ship",
        "shipped": "on its way",
        "in_transit": "in transit",
        "out_for_delivery": "out for delivery",
        "available_for_pickup": "ready for pickup",
        "delivered": "delivered",
        "returned": "returned to us",
        "cancelled": "cancelled",
    },
    "es": {
        "placed": "confirmado",
        "processing": "en preparación",
        "packed": "empaquetado y listo para salir",
        "shipped": "enviado",
        "in_transit": "en camino",
        "out_for_delivery": "en reparto",
        "available_for_pickup": "listo para recoger",
        "delivered": "entregado",
        "returned": "devuelto",
        "cancelled": "cancelado",
    },
}

# Follows "Reason: " / "Motivo: ".
REASON_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "weather": "bad weather",
        "customs": "a customs inspection",
        "address": "a problem with the delivery address",
        "carrier": "a problem at the carrier",
        "damaged": "the parcel was damaged",
        "lost": "the parcel was lost in transit",
        "recipient_unavailable": "nobody was available to receive the parcel",
        "refused": "the delivery was refused",
        "payment": "a payment is pending",
        "held": "the carrier is holding the parcel",
        "stock": "an item is out of stock",
        "other": "an unexpected problem",
    },
    "es": {
        "weather": "mal tiempo",
        "customs": "una inspección de aduanas",
        "address": "un problema con la dirección de entrega",
        "carrier": "una incidencia de la empresa de transporte",
        "damaged": "el paquete sufrió daños",
        "lost": "el paquete se extravió durante el transporte",
        "recipient_unavailable": "no había nadie para recibir el paquete",
        "refused": "se rechazó la entrega",
        "payment": "hay un pago pendiente",
        "held": "la empresa de transporte retiene el paquete",
        "stock": "un artículo está agotado",
        "other": "un problema imprevisto",
    },
}

# Offered alternatives by code; anything else the shop wrote is shown as written.
ALTERNATIVE_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "pickup_point": "collect the parcel from a pickup point",
        "cancel": "cancel the order for a full refund",
        "refund": "get a refund",
        "reschedule": "choose a new delivery date",
        "redeliver": "ask for another delivery attempt",
        "change_address": "change the delivery address",
        "replacement": "receive a replacement",
        "wait": "wait for the new delivery date",
    },
    "es": {
        "pickup_point": "recoger el paquete en un punto de recogida",
        "cancel": "cancelar el pedido con reembolso completo",
        "refund": "recibir un reembolso",
        "reschedule": "elegir una nueva fecha de entrega",
        "redeliver": "solicitar un nuevo intento de entrega",
        "change_address": "cambiar la dirección de entrega",
        "replacement": "recibir un artículo de sustitución",
        "wait": "esperar a la nueva fecha de entrega",
    },
}


def status_words(status: str, locale: str | None) -> str:
    """The status in words; raises KeyError for a status that has none."""
    return STATUS_WORDS[resolve_locale(locale, STATUS_WORDS)][status]


def reason_words(reason_code: str, locale: str | None) -> str:
    """Why a delivery is late, in words; an unknown code reads as an unexpected problem."""
    words = REASON_WORDS[resolve_locale(locale, REASON_WORDS)]
    return words.get(reason_code, words["other"])


def alternative_words(alternative: str, locale: str | None) -> str:
    """An offered alternative in words; free text from the shop is kept as written."""
    return ALTERNATIVE_WORDS[resolve_locale(locale, ALTERNATIVE_WORDS)].get(
        alternative, alternative
    )
