import { useState } from 'react';
import { useViewerAbility } from '../../lib/ability';
import { useTitle } from '../../lib/router';
import { AlertRules } from './AlertRules';
import { Grants } from './Grants';
import { Roles } from './Roles';

type Section = 'roles' | 'grants' | 'alerts';

export function AdminPage() {
  useTitle('Admin');
  const ability = useViewerAbility();
  const permissions = ability.can('manage_permissions', 'Permission');
  const sections: Array<{ id: Section; text: string }> = [
    ...(permissions
      ? [
          { id: 'roles' as const, text: 'Roles' },
          { id: 'grants' as const, text: 'Grants' },
        ]
      : []),
    { id: 'alerts', text: 'Alert rules' },
  ];
  const [section, setSection] = useState<Section>(sections[0]!.id);
  return (
    <section>
      <h1>Admin</h1>
      <div role="tablist" aria-label="Admin sections" className="tabs">
        {sections.map((s) => (
          <button
            key={s.id}
            type="button"
            role="tab"
            id={`admin-${s.id}`}
            aria-selected={section === s.id}
            aria-controls="admin-panel"
            onClick={() => setSection(s.id)}
          >
            {s.text}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="admin-panel" aria-labelledby={`admin-${section}`}>
        {section === 'roles' && <Roles />}
        {section === 'grants' && <Grants />}
        {section === 'alerts' && <AlertRules />}
      </div>
    </section>
  );
}
