"""The worker's consumer: Celery's, surviving a kombu fault when Redis goes away mid-task.

Imported by the worker only (``worker_consumer`` in config/celery.py names it), never by the web.

The fault (issue 12, point 6; reproduced by tests/notifications/test_queues.py::BrokerRestartTests):
when Redis goes away while the worker holds an unacknowledged message (a task running with
``acks_late``) and waits in BRPOP for the next, Celery's ``on_connection_error_after_connected``
first ``collect()``s the lost connection. Closing the channel there fails on the dead socket, but
``collect`` still detaches the transport (``transport.client = None``). Celery then calls
``connection.close()``, which closes the same channel again; this time it gets as far as restoring
the unacknowledged message, which needs a new Redis pool, whose parameters are read from the
detached ``client``: ``AttributeError: 'NoneType' object has no attribute 'hostname'``. That is
neither a connection nor a channel error, so it escapes Celery's retry loop and ends the worker
("Unrecoverable error"). Seen in kombu 5.7.0 / celery 5.7.0.

The consumer below treats exactly that case as the connection error it is: the lost connection is
already gone (Celery cleared ``self.connection`` before the close), so it finishes what Celery's
handler would have done after the close (cancel the running late-acknowledged tasks, whose messages
can no longer be acknowledged) and lets Celery reconnect. The messages are not restored at once;
Redis redelivers them after the visibility timeout, or they were lost with a Redis restarted empty.
Neither loses work: the database decides (reminder claims, the e-mail outbox), and the sweep finds
whatever a lost message would have done.
"""
import logging

from celery.worker import state as worker_state
from celery.worker.consumer import Consumer as CeleryConsumer

logger = logging.getLogger(__name__)


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc):
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError as fault:
            if self.connection is not None:
                raise  # not the known fault: Celery had not yet let go of the connection
            logger.warning(
                "Closing the lost broker connection failed inside kombu (%r, a known fault, see "
                "config/celery_worker.py); reconnecting anyway.", fault,
            )
            logger.debug("The kombu fault's traceback", exc_info=True)
            self._cancel_unacknowledged_requests()

    def _cancel_unacknowledged_requests(self):
        """Cancel the running tasks whose message waits for an acknowledgement on the lost channel,
        as Celery's handler does after the close when worker_cancel_long_running_tasks_on_connection_loss
        is on (config/celery.py turns it on): acknowledging there would hit the same detached
        transport and end the worker. A cancelled task's message is left unacknowledged (Celery's
        Request.on_failure) and is delivered again."""
        if not self.app.conf.worker_cancel_long_running_tasks_on_connection_loss:
            return
        for request in tuple(worker_state.active_requests):
            if request.task.acks_late and not request.acknowledged:
                try:
                    request.cancel(self.pool)
                except Exception:  # noqa: BLE001 - one task's cancel must not stop the reconnect
                    logger.warning("Could not cancel task %s after the connection loss", request.id, exc_info=True)
