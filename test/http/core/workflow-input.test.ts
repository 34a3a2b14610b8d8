import { expect } from 'chai';
import {
  cancelReason,
  decoded,
  eventLogLine,
  freezeExecuteOptions,
  normaliseMilestones,
  normaliseRepo,
  orchestrationRequest,
  parseHttpDate,
  readExecuteOptions,
  type StoredWorkflow,
} from '../../../http/core/workflow-input.js';

describe('normaliseRepo (reference §3.4)', () => {
  const cases: Array<[string, string]> = [
    ['acme/shop_docker', 'acme/shop_docker'],
    ['  acme/shop_docker  ', 'acme/shop_docker'],
    ['acme/shop_docker/', 'acme/shop_docker'],
    ['acme/shop_docker\\', 'acme/shop_docker'],
    [' acme/shop_docker/\\/ ', 'acme/shop_docker'],
    ['https://git.example.com/acme/shop.git/', 'https://git.example.com/acme/shop.git'],
    ['/', ''],
  ];
  for (const [input, expected] of cases) it(JSON.stringify(input), () => expect(normaliseRepo(input)).to.equal(expected));
});

describe('normaliseMilestones (reference §3.4, §5.1)', () => {
  const cases: Array<[string[], string[]]> = [
    [['deploy'], ['config', 'deploy']],
    [['build', 'deploy'], ['build', 'deploy']],
    [['config', 'deploy_oa'], ['config', 'deploy_oa']],
    [['deploy', 'build'], ['deploy', 'build']],
    [['scheduled', 'deploy'], ['config', 'scheduled', 'deploy']],
    [[], ['config']],
    [['unknown'], ['config', 'unknown']],
  ];
  for (const [input, expected] of cases) it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => expect(normaliseMilestones(input)).to.deep.equal(expected));
});

describe('parseHttpDate', () => {
  const cases: Array<[string, string | undefined]> = [
    ['Tue, 23 Jun 2015 19:39:11 UTC', '2015-06-23T19:39:11.000Z'],
    ['Tue, 23 Jun 2015 19:39:11 GMT', '2015-06-23T19:39:11.000Z'],
    ['Tue, 3 Jun 2015 19:39:11 GMT', '2015-06-03T19:39:11.000Z'],
    ['Tue, 23 Jun 2015 21:39:11 +0200', '2015-06-23T19:39:11.000Z'],
    ['Wed, 23 Jun 2015 19:39:11 GMT', '2015-06-23T19:39:11.000Z'], // wrong weekday: the date still stands
    ['2015-06-23T19:39:11Z', '2015-06-23T19:39:11.000Z'],
    ['2015-06-23T19:39:11.5Z', '2015-06-23T19:39:11.500Z'],
    ['2015-06-23T21:39:11+02:00', '2015-06-23T19:39:11.000Z'],
    ['2015-06-23T14:09:11-0530', '2015-06-23T19:39:11.000Z'],
    ['2015-06-23T19:39Z', '2015-06-23T19:39:00.000Z'],
    ['2015-06-23T19:39:11', undefined], // no zone: ambiguous
    ['Tue, 31 Feb 2015 19:39:11 GMT', undefined],
    ['Tue, 23 Foo 2015 19:39:11 GMT', undefined],
    ['Tue, 23 Jun 2015 24:00:00 GMT', undefined],
    ['2015-13-01T00:00:00Z', undefined],
    ['2015-02-29T00:00:00Z', undefined],
    ['2016-02-29T00:00:00Z', '2016-02-29T00:00:00.000Z'],
    ['yesterday', undefined],
    ['', undefined],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} -> ${expected ?? 'refused'}`, () => expect(parseHttpDate(input)?.toISOString()).to.equal(expected));
  }
});

describe('freezeExecuteOptions (reference §3.4)', () => {
  it('fills defaults at the first execute', () => {
    expect(freezeExecuteOptions(null, {})).to.deep.equal({ force_build: false, build_messaging_exchange_id: null, deploy_messaging_exchange_id: null });
    expect(freezeExecuteOptions(null, { force_build: true, deploy_messaging_exchange_id: 3 })).to.deep.equal({
      force_build: true,
      build_messaging_exchange_id: null,
      deploy_messaging_exchange_id: 3,
    });
  });
  it('keeps stored options and ignores the request afterwards', () => {
    const stored = { force_build: true, build_messaging_exchange_id: 2, deploy_messaging_exchange_id: null };
    expect(freezeExecuteOptions(stored, { force_build: false, build_messaging_exchange_id: 9 })).to.equal(stored);
  });
  it('reads stored options leniently', () => {
    expect(readExecuteOptions(null)).to.equal(null);
    expect(readExecuteOptions('text')).to.equal(null);
    expect(readExecuteOptions({ force_build: 'yes', build_messaging_exchange_id: 1.5, deploy_messaging_exchange_id: 4 })).to.deep.equal({
      force_build: false,
      build_messaging_exchange_id: null,
      deploy_messaging_exchange_id: 4,
    });
  });
});

describe('event log lines and decoding', () => {
  it('writes the orchestrator\'s prefix (reference §5.5)', () => {
    expect(eventLogLine({ id: 'w1', deployment_repo: 'acme/shop_docker' }, 'hello')).to.equal('[OA][w1][acme/shop_docker] hello');
    expect(eventLogLine({ id: 'w1', deployment_repo: null }, 'hello')).to.equal('[OA][w1][Unknown] hello');
    expect(cancelReason('alice@example.com')).to.equal('cancelled by alice@example.com');
  });
  it('decodes JSON text and shows other text as it is', () => {
    expect(decoded(null)).to.equal(null);
    expect(decoded('["a"]')).to.deep.equal(['a']);
    expect(decoded('not json')).to.equal('not json');
  });
});

describe('orchestrationRequest (reference §5.2, §10A)', () => {
  const workflow: StoredWorkflow = {
    id: '5f0c0000-0000-4000-8000-000000000000',
    deployment_repo: 'acme/shop_docker',
    deployment_repo_git_ref: 'master',
    source_repo: 'acme/shop',
    source_repo_git_ref: 'master',
    source_commit_hash: null,
    milestones: '["build","deploy"]',
    current_step: null,
    elapsed_step_time: null,
    elapsed_workflow_time: null,
    workflow_duration: null,
    workflow_step_durations: null,
    workflow_error: null,
    workflow_completed: false,
    event_log: null,
    scheduled_start_time: null,
  };
  const options = { force_build: false, build_messaging_exchange_id: null, deploy_messaging_exchange_id: null };

  it('renders the §10A example exactly', () => {
    expect(orchestrationRequest(workflow, options, { exchangeId: 1, brokerId: 1 })).to.deep.equal({
      id: workflow.id, workflow_id: null, deployment_repo: 'acme/shop_docker', deployment_repo_git_ref: 'master',
      source_repo: 'acme/shop', source_repo_git_ref: 'master', source_commit_hash: null,
      milestones: ['build', 'deploy'], current_step: null, elapsed_step_time: null, elapsed_workflow_time: null,
      workflow_duration: null, workflow_step_durations: null, workflow_error: null, workflow_completed: false,
      event_log: null, workflow_start_time: null, step_time: null, scheduled_start_time: null,
      execute_options: { force_build: false, build_messaging_exchange_id: null, deploy_messaging_exchange_id: null },
      force_build: false, build_messaging_exchange_id: null, deploy_messaging_exchange_id: null,
      orchestration_queue_name: 'workflow_orchestration', workflow_orchestration_exchange_id: '1', workflow_orchestration_broker_id: '1',
      notifications_exchange_id: '1', notifications_broker_id: '1', docker_build_etcd_token: null, etcd_token: null,
      deployable_units: null, notifications_config: null, fleet_config: null, aws_config: null, ecs_task_definition: null,
    });
  });

  it('carries overrides at the top level too, the schedule as ISO 8601, and no broker id when unknown', () => {
    const request = orchestrationRequest(
      { ...workflow, scheduled_start_time: new Date('2015-06-23T19:39:11Z') },
      { force_build: true, build_messaging_exchange_id: 2, deploy_messaging_exchange_id: 3 },
      { exchangeId: 7, brokerId: undefined },
    );
    expect(request).to.deep.include({ force_build: true, build_messaging_exchange_id: 2, deploy_messaging_exchange_id: 3, scheduled_start_time: '2015-06-23T19:39:11.000Z' });
    expect(request).to.deep.include({ workflow_orchestration_exchange_id: '7', notifications_exchange_id: '7', workflow_orchestration_broker_id: null, notifications_broker_id: null });
  });
});
