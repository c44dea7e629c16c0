import { createHeraldClient } from 'herald/client';

const herald = createHeraldClient({ url: process.env.HERALD_URL ?? 'http://127.0.0.1:3000', token: process.env.HERALD_TOKEN });

const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
const { data: created, error } = await herald.POST('/v1/notifications', {
  body: { recipients: ['alice'], title: 'Standup', message: 'In 5 minutes', scheduledAt: inAnHour },
});
if (error) throw new Error(`Not scheduled: ${JSON.stringify(error)}`);

for (const id of created.notificationIds) {
  const { data: notification } = await herald.GET('/v1/notifications/{id}', { params: { path: { id } } });
  console.log(id, notification?.status, notification?.scheduledAt); // ntf_01... pending 20..T..Z
}
