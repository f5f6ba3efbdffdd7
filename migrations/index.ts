import { Init1763900000000 } from './1763900000000-Init';
import { ChangeNotifications1763900001000 } from './1763900001000-ChangeNotifications';
import { NotificationsAndAlerts1763900002000 } from './1763900002000-NotificationsAndAlerts';
import { LeasesAndOwnFigures1763900004000 } from './1763900004000-LeasesAndOwnFigures';
import { AlertsAndNotificationsHardening1763900005000 } from './1763900005000-AlertsAndNotificationsHardening';
import { FilterOrderIndexes1763900006000 } from './1763900006000-FilterOrderIndexes';
import { PermissionsVersion1763900007000 } from './1763900007000-PermissionsVersion';

/** Every migration, in order. Listed explicitly so that compiled and test runs load the same set. */
export const migrations = [Init1763900000000, ChangeNotifications1763900001000, NotificationsAndAlerts1763900002000, LeasesAndOwnFigures1763900004000, AlertsAndNotificationsHardening1763900005000, FilterOrderIndexes1763900006000, PermissionsVersion1763900007000];
