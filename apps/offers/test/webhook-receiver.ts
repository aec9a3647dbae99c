import { Webhook } from 'standardwebhooks';
import type { JourneySendV1 } from '@segmenta/contracts';
import { WebhookReceiver } from '@segmenta/infra';

/** The tests' receiver of journey sends: each delivery verified with the reference `standardwebhooks` package, not our own code. */
export function journeyReceiver(): WebhookReceiver<JourneySendV1> {
  return new WebhookReceiver<JourneySendV1>((secret, headers, body) => {
    try {
      new Webhook(secret).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  });
}
