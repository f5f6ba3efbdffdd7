import { Init1763900000000 } from './1763900000000-Init';
import { ChangeNotifications1763900001000 } from './1763900001000-ChangeNotifications';
import { NotificationsAndAlerts1763900002000 } from './1763900002000-NotificationsAndAlerts';
import { LeasesAndOwnFigures1763900004000 } from './1763900004000-LeasesAndOwnFigures';
import { AlertsAndNotificationsHardening1763900005000 } from './1763900005000-AlertsAndNotificationsHardening';
import { FilterOrderIndexes1763900006000 } from './1763900006000-FilterOrderIndexes';
import { PermissionsVersion1763900007000 } from './1763900007000-PermissionsVersion';
import { BatchedChangeNotifications1796573100990 } from './1796573100990-BatchedChangeNotifications';
import { SubscriptionResync1796573118652 } from './1796573118652-SubscriptionResync';
import { JobAttempts1796573143074 } from './1796573143074-JobAttempts';
import { JobAttributes1796573600544 } from './1796573600544-JobAttributes';
import { TypeFinishedIndex1796574526023 } from './1796574526023-TypeFinishedIndex';
import { EmailAlerts1796575238288 } from './1796575238288-EmailAlerts';
import { JobFacetCounts1796576242908 } from './1796576242908-JobFacetCounts';
import { FailedMessageAndOwnDeletes1796577379242 } from './1796577379242-FailedMessageAndOwnDeletes';
import { ProgressSequenceAndEndedLease1796577632984 } from './1796577632984-ProgressSequenceAndEndedLease';
import { StalledProgress1796577639152 } from './1796577639152-StalledProgress';
import { DaemonClock1796577775881 } from './1796577775881-DaemonClock';

/** Every migration, in order. Listed explicitly so that compiled and test runs load the same set. */
export const migrations = [
  Init1763900000000,
  ChangeNotifications1763900001000,
  NotificationsAndAlerts1763900002000,
  LeasesAndOwnFigures1763900004000,
  AlertsAndNotificationsHardening1763900005000,
  FilterOrderIndexes1763900006000,
  PermissionsVersion1763900007000,
  BatchedChangeNotifications1796573100990,
  SubscriptionResync1796573118652,
  JobAttempts1796573143074,
  JobAttributes1796573600544,
  TypeFinishedIndex1796574526023,
  EmailAlerts1796575238288,
  JobFacetCounts1796576242908,
  FailedMessageAndOwnDeletes1796577379242,
  ProgressSequenceAndEndedLease1796577632984,
  StalledProgress1796577639152,
  DaemonClock1796577775881,
];
