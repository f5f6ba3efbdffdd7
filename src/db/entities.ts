import { RoleEntity } from '../permissions/role.entity';
import { GrantEntity } from '../permissions/grant.entity';

/** Every TypeORM entity. Tables are created by migrations; entities only describe them. */
export const entities = [RoleEntity, GrantEntity];
