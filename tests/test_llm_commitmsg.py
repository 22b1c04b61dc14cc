"""Model-written commit subjects: opt-in, and never a condition for a commit."""



def test_off_by_default_even_with_a_store_model(t, fake_llm, git):
    t.config("model", fake_llm.model)
    t.config("baseUrl", fake_llm.base_url)
    t.user("How do I reverse a list in Python?")
    assert git(t.path, "log", "-1", "--format=%s") == "user: How do I reverse a list in Python?\n"
    assert fake_llm.requests == []


def test_model_writes_the_subject_when_configured(t, fake_llm, git, fsck):
    t.config("commitMessages.model", fake_llm.model)
    t.config("baseUrl", fake_llm.base_url)
    fake_llm.reply('"Ask how to reverse a Python list."\n')
    res = t.user("How do I reverse a list in Python?")
    assert res.subject == "Ask how to reverse a Python list"
    msg = git(t.path, "log", "-1", "--format=%B")
    assert msg == ("Ask how to reverse a Python list\n\n"
                   "Tract-Op: append\n"
                   f"Tract-Entry: {res.entry_ids[0]}\n"
                   "Tract-Message-Model: openai/gpt-4o-mini\n\n")
    body = fake_llm.last
    assert body["max_tokens"] == 40
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][1]["content"] == ("Entries appended:\n\n[user, dialogue]\n"
                                              "How do I reverse a list in Python?")
    # an explicit message wins and costs no call
    n = len(fake_llm.requests)
    t.user("more", message="my own subject")
    assert len(fake_llm.requests) == n
    assert git(t.path, "log", "-1", "--format=%s") == "my own subject\n"
    fsck(t.path)


def test_a_failing_model_falls_back_to_the_default_subject(t, fake_llm, git):
    t.config("commitMessages.model", fake_llm.model)
    t.config("baseUrl", fake_llm.base_url)
    fake_llm.error(500, times=5)
    res = t.user("hello there")
    assert res.subject == "user: hello there"
    assert len(fake_llm.requests) == 1  # no retries for a commit message by default
    assert "Tract-Message-Model" not in git(t.path, "log", "-1", "--format=%B")
    fake_llm.reply("   \n")
    assert t.user("again").subject == "user: again"


def test_chat_turns_keep_deterministic_subjects(t, fake_llm, git):
    t.config("commitMessages.model", fake_llm.model)
    t.config("model", fake_llm.model)
    t.config("baseUrl", fake_llm.base_url)
    fake_llm.reply("Paris.")
    t.chat("Capital of France?")
    assert git(t.path, "log", "--format=%s").splitlines() == ["assistant: Paris.", "user: Capital of France?"]
    assert len(fake_llm.requests) == 1
